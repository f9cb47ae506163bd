import { randomUUID } from 'node:crypto';
import { getQueueToken } from '@nestjs/bull';
import type { Queue } from 'bull';
import Redis from 'ioredis';
import { QueuedMarksSweeper } from '../src/processing/queued-marks.sweeper';
import { EVENTS_QUEUE, QUEUED_EVENTS_KEY, queuedField, queuedMark } from '../src/queue/queue.contract';
import { http, registerClient, startApp, type TestApp, type TestClient } from './helpers/app';
import { TEST_REDIS_URL } from './helpers/env';
import type { EventStatusDto } from './helpers/wire';

/** A "queued" mark must not outlive its job: a crash between mark and job, or a job that died. */
describe('Queued marks whose job is gone (e2e)', () => {
  let t: TestApp;
  let writer: TestClient;
  let redis: Redis;
  let queue: Queue;
  let sut: QueuedMarksSweeper;

  /** The mark's field: ids belong to their client. */
  const field = (id: string) => queuedField(id, writer.clientId);
  const status = async (id: string) =>
    (await http<EventStatusDto>(`${t.url}/v1/events/${id}`, { token: writer.token })).status;

  beforeAll(async () => {
    t = await startApp();
    writer = await registerClient(t.url, ['events:write'], 'marks writer');
    redis = new Redis(TEST_REDIS_URL);
    queue = t.app.get<Queue>(getQueueToken(EVENTS_QUEUE));
    sut = t.app.get(QueuedMarksSweeper);
  });
  afterAll(async () => {
    redis.disconnect();
    await t.close();
  });

  it('marks of a job that never came (crash between mark and add) are swept on the second sweep', async () => {
    const lost = [randomUUID(), randomUUID()];
    const mark = queuedMark(writer.clientId, `lost-${randomUUID()}`);
    await redis.hset(QUEUED_EVENTS_KEY, field(lost[0]), mark, field(lost[1]), mark);
    expect(await status(lost[0])).toBe(200); // "queued", for now

    // The first sweep only suspects them: the producer writes a mark a moment before its job.
    await sut.sweep();
    expect(await redis.hmget(QUEUED_EVENTS_KEY, ...lost.map(field))).toEqual([mark, mark]);
    expect(await sut.sweep()).toBeGreaterThanOrEqual(2);
    expect(await redis.hmget(QUEUED_EVENTS_KEY, ...lost.map(field))).toEqual([null, null]);
    expect(await status(lost[0])).toBe(404);
  });

  it('marks of a job that failed for good are swept; marks of a live job stay', async () => {
    // A live job: delayed, so the worker leaves it alone during the test.
    const liveEvent = randomUUID();
    const live = await queue.add('not-ingest', { v: 1, events: [] }, { delay: 600_000 });
    const liveMark = queuedMark(writer.clientId, String(live.id));
    // A job that spent its attempts: Bull keeps it in the failed set.
    const failedEvent = randomUUID();
    const failedId = `failed-${randomUUID()}`;
    await redis.hset(queue.toKey(failedId), 'data', '{}', 'name', 'ingest');
    await redis.zadd(queue.toKey('failed'), Date.now(), failedId);
    const failedMark = queuedMark(writer.clientId, failedId);
    await redis.hset(QUEUED_EVENTS_KEY, field(liveEvent), liveMark, field(failedEvent), failedMark);
    try {
      await sut.sweep();
      await sut.sweep();
      expect(await redis.hget(QUEUED_EVENTS_KEY, field(liveEvent))).toBe(liveMark);
      expect(await redis.hget(QUEUED_EVENTS_KEY, field(failedEvent))).toBeNull();
      expect(await status(liveEvent)).toBe(200);
    } finally {
      await live.remove();
      await redis.del(queue.toKey(failedId));
      await redis.zrem(queue.toKey('failed'), failedId);
      await redis.hdel(QUEUED_EVENTS_KEY, field(liveEvent));
    }
  });

  it('a mark re-written for a new job between scan and removal is kept', async () => {
    const id = randomUUID();
    const old = queuedMark(writer.clientId, `lost-${randomUUID()}`);
    await redis.hset(QUEUED_EVENTS_KEY, field(id), old);
    await sut.sweep();
    // The SDK retried: the same event id, now carried by a live job.
    const live = await queue.add('not-ingest', { v: 1, events: [] }, { delay: 600_000 });
    const fresh = queuedMark(writer.clientId, String(live.id));
    await redis.hset(QUEUED_EVENTS_KEY, field(id), fresh);
    try {
      await sut.sweep();
      expect(await redis.hget(QUEUED_EVENTS_KEY, field(id))).toBe(fresh);
    } finally {
      await live.remove();
      await redis.hdel(QUEUED_EVENTS_KEY, field(id));
    }
  });
});
