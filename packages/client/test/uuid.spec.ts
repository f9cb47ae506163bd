import { EyeClient } from '../src/client';
import { uuidv7 } from '../src/uuid';
import { event, FakeEye } from './fake-eye';

const UUID_V7_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

const expectStrictlyIncreasing = (ids: string[]): void => {
  for (let i = 1; i < ids.length; i++) {
    if (!(ids[i - 1] < ids[i])) throw new Error(`id ${i} (${ids[i]}) does not sort after ${ids[i - 1]}`);
  }
};

describe('uuidv7', () => {
  afterEach(() => jest.restoreAllMocks());

  it('is a version 7, variant 10 UUID carrying the millisecond time', () => {
    const now = Date.parse('2026-12-02T10:00:00.123Z');
    jest.spyOn(Date, 'now').mockReturnValue(now);
    const id = uuidv7();
    expect(id).toMatch(UUID_V7_RE);
    expect(parseInt(id.slice(0, 8) + id.slice(9, 13), 16)).toBe(now);
  });

  it('is monotonic within a millisecond (RFC 9562 §6.2): 20,000 ids of one ms strictly increase', () => {
    jest.spyOn(Date, 'now').mockReturnValue(Date.parse('2026-12-02T10:00:00.456Z'));
    expectStrictlyIncreasing(Array.from({ length: 20_000 }, () => uuidv7()));
  });
});

describe('EyeClient.track ids', () => {
  let eye: FakeEye;
  let sut: EyeClient;

  beforeEach(async () => {
    eye = await FakeEye.start();
    sut = new EyeClient({
      baseUrl: eye.url,
      clientId: 'cli_test',
      clientSecret: 'secret',
      flushAt: 1000,
      maxQueueSize: 50_000,
    });
  });
  afterEach(async () => {
    jest.restoreAllMocks();
    await sut.close();
    await eye.stop();
  });

  it('two track() calls in the same millisecond give increasing ids (pageview, then cta click)', async () => {
    jest.spyOn(Date, 'now').mockReturnValue(Date.parse('2026-12-02T10:00:00.789Z'));
    const ids: string[] = [];
    for (let i = 0; i < 10_000; i++)
      ids.push(sut.track(event(i)), sut.track({ ...event(i), name: 'cta click' }));
    expectStrictlyIncreasing(ids);
    jest.restoreAllMocks();
    await sut.flush();
    expect(eye.received).toEqual(ids);
  });

  it('ids of a tight loop on the real clock strictly increase', () => {
    expectStrictlyIncreasing(Array.from({ length: 20_000 }, (_, i) => sut.track(event(i))));
  });
});
