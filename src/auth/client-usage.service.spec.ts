import { ClientUsageService, USAGE_RESOLUTION_MS } from './client-usage.service';
import type { ClientsRepository } from './clients.repository';

describe(ClientUsageService.name, () => {
  function setup(): { sut: ClientUsageService; writes: string[][] } {
    const writes: string[][] = [];
    const clients = {
      markUsed: (ids: string[]) => {
        writes.push(ids);
        return Promise.resolve();
      },
    } as unknown as ClientsRepository;
    return { sut: new ClientUsageService(clients), writes };
  }

  it('writes each client once however many requests it made, in one UPDATE', async () => {
    const { sut, writes } = setup();
    const now = Date.now();
    for (let i = 0; i < 10_000; i++) sut.touch(i % 2 ? 'a' : 'b', now + i);
    await sut.flush();
    await sut.flush();
    expect(writes).toEqual([['b', 'a']]);
  });

  it('marks a client again once the resolution has passed', async () => {
    const { sut, writes } = setup();
    const now = Date.now();
    sut.touch('a', now);
    await sut.flush();
    sut.touch('a', now + USAGE_RESOLUTION_MS - 1);
    await sut.flush();
    sut.touch('a', now + USAGE_RESOLUTION_MS);
    await sut.flush();
    expect(writes).toEqual([['a'], ['a']]);
  });
});
