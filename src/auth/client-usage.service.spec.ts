import type { PrismaService } from '../prisma/prisma.service';
import { ClientUsageService, USAGE_RESOLUTION_MS } from './client-usage.service';

describe(ClientUsageService.name, () => {
  function setup(): { sut: ClientUsageService; writes: string[][] } {
    const writes: string[][] = [];
    const prisma = {
      client: {
        updateMany: ({ where }: { where: { id: { in: string[] } } }) => {
          writes.push(where.id.in);
          return Promise.resolve({ count: where.id.in.length });
        },
      },
    } as unknown as PrismaService;
    return { sut: new ClientUsageService(prisma), writes };
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
