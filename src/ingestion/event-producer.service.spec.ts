import { Logger } from '@nestjs/common';
import type { Queue } from 'bull';
import { ApiError } from '../common/api-error';
import { loadConfig } from '../config/config';
import {
  INGEST_JOB,
  type IngestJobData,
  QUEUED_EVENTS_KEY,
  queuedMark,
  type QueuedEvent,
} from '../queue/queue.contract';
import { EventProducer } from './event-producer.service';

const event = (id: string, data: Record<string, unknown> = { host: 'a', path: '/' }): QueuedEvent => ({
  id,
  session_id: 's',
  category: 'page interaction',
  name: 'pageview',
  data,
  timestamp: '2021-01-01T00:00:00.000000Z',
  received_at: '2021-01-01T00:00:00.000000Z',
  client_id: 'c',
});

/** Deeper than JSON.stringify can go: what a payload without a depth limit could carry. */
function tooDeepForStringify(): Record<string, unknown> {
  let v: Record<string, unknown> = {};
  for (let i = 0; i < 200_000; i++) v = { a: v };
  return v;
}

/**
 * A stand-in for Bull's queue: `add` serializes the job data with JSON.stringify as Bull does (and
 * fails as it would), or fails like ioredis when `redisDown`.
 */
function stubQueue() {
  const jobs: string[][] = [];
  const state = { redisDown: false };
  const client = {
    status: 'ready',
    incr: jest.fn().mockResolvedValueOnce(41).mockResolvedValue(42),
    hset: jest.fn().mockResolvedValue(1),
    hdel: jest.fn().mockResolvedValue(1),
    hlen: jest.fn().mockResolvedValue(0),
  };
  const queue = {
    client,
    toKey: (type: string) => `bull:events:${type}`,
    add: jest.fn(async (_name: string, data: IngestJobData) => {
      await Promise.resolve();
      if (state.redisDown) throw new Error('Connection is closed.');
      JSON.stringify(data);
      jobs.push(data.events.map((e) => e.id));
      return { id: String(jobs.length) };
    }),
  };
  return { queue: queue as unknown as Queue<IngestJobData>, jobs, state, client };
}

describe(EventProducer.name, () => {
  const config = loadConfig({});
  beforeAll(() => Logger.overrideLogger(false));
  afterAll(() => Logger.overrideLogger(['error', 'warn', 'log']));

  it("fails only the request whose events cannot be serialized, with a 400; its group's other requests are queued", async () => {
    const { queue, jobs, client } = stubQueue();
    const sut = new EventProducer(queue, config);
    const results = await Promise.allSettled([
      sut.enqueue([event('a1'), event('a2')]),
      sut.enqueue([event('poison', tooDeepForStringify())]),
      sut.enqueue([event('b1')]),
    ]);
    expect(results[0]).toEqual({ status: 'fulfilled', value: undefined });
    expect(results[2]).toEqual({ status: 'fulfilled', value: undefined });
    expect(results[1].status).toBe('rejected');
    const err = (results[1] as PromiseRejectedResult).reason as ApiError;
    expect(err).toBeInstanceOf(ApiError);
    expect([err.status, err.code]).toEqual([400, 'payload_too_deep']);
    expect(jobs.flat().sort()).toEqual(['a1', 'a2', 'b1']);
    // The poison event's "queued" mark was taken back.
    expect(client.hdel).toHaveBeenCalledWith(expect.any(String), 'poison:c');
  });

  it('answers 503 with Retry-After to every request of the group when Redis fails', async () => {
    const { queue, state, jobs } = stubQueue();
    state.redisDown = true;
    const sut = new EventProducer(queue, config);
    const results = await Promise.allSettled([sut.enqueue([event('a')]), sut.enqueue([event('b')])]);
    for (const r of results) {
      const err = (r as PromiseRejectedResult).reason as ApiError;
      expect([err.status, err.code, err.headers?.['Retry-After']]).toEqual([
        503,
        'queue_unavailable',
        expect.stringMatching(/^\d+$/),
      ]);
    }
    expect(jobs).toEqual([]);
  });

  it("takes a job id from the queue's job counter, marks the events queued and adds one job holding them", async () => {
    const { queue, client } = stubQueue();
    const sut = new EventProducer(queue, config);
    const events = [event('e1'), event('e2')];
    await sut.enqueue(events);
    expect(client.incr).toHaveBeenCalledTimes(1);
    expect(client.incr).toHaveBeenCalledWith('bull:events:id');
    expect(client.hset).toHaveBeenCalledTimes(1);
    expect(queue.add).toHaveBeenCalledTimes(1);
    // The counter's value is the job id (arrival order of equal timestamps follows it).
    expect(queue.add).toHaveBeenCalledWith(INGEST_JOB, { v: 1, events }, { jobId: '41' });
    // One field per (id, client): ids belong to their client; each mark names the job that
    // carries its event, so a mark whose job is gone can be swept.
    const mark = queuedMark('c', '41');
    expect(client.hset).toHaveBeenCalledWith(QUEUED_EVENTS_KEY, 'e1:c', mark, 'e2:c', mark);
    expect(client.hdel).not.toHaveBeenCalled();
  });

  it('takes the "queued" marks back when the job cannot be added', async () => {
    const { queue, state, client } = stubQueue();
    state.redisDown = true;
    const sut = new EventProducer(queue, config);
    await expect(sut.enqueue([event('x1'), event('x2')])).rejects.toMatchObject({ status: 503 });
    expect(client.hdel).toHaveBeenCalledTimes(1);
    expect(client.hdel).toHaveBeenCalledWith(QUEUED_EVENTS_KEY, 'x1:c', 'x2:c');
  });

  it('answers 503 at once, touching nothing, while the queue connection is not ready', async () => {
    const { queue, client } = stubQueue();
    client.status = 'reconnecting';
    const sut = new EventProducer(queue, config);
    const err = (await sut.enqueue([event('a')]).catch((e: unknown) => e)) as ApiError;
    expect([err.status, err.code, err.headers]).toEqual([503, 'queue_unavailable', { 'Retry-After': '5' }]);
    expect(queue.add).not.toHaveBeenCalled();
    expect(client.hset).not.toHaveBeenCalled();
  });

  it('answers 503 when Redis takes the enqueue past its timeout (1.5 s), not before', async () => {
    const { queue } = stubQueue();
    (queue.add as jest.Mock).mockReturnValue(new Promise(() => undefined)); // Redis never answers
    jest.useFakeTimers();
    try {
      const sut = new EventProducer(queue, config);
      let settled: unknown;
      void sut.enqueue([event('slow')]).then(
        () => (settled = 'resolved'),
        (e: unknown) => (settled = e),
      );
      await jest.advanceTimersByTimeAsync(1_400);
      expect(settled).toBeUndefined();
      await jest.advanceTimersByTimeAsync(200);
      const err = settled as ApiError;
      expect([err.status, err.code]).toEqual([503, 'queue_unavailable']);
    } finally {
      jest.useRealTimers();
    }
  });

  it('answers 429 with Retry-After once the backlog would pass MAX_QUEUE_BACKLOG, and only then', async () => {
    const { queue, client } = stubQueue();
    client.hlen.mockResolvedValue(8);
    const sut = new EventProducer(queue, loadConfig({ MAX_QUEUE_BACKLOG: '10' }));
    sut.onModuleInit();
    try {
      await Promise.resolve(); // the first backlog poll
      await Promise.resolve();
      expect(client.hlen).toHaveBeenCalledWith(QUEUED_EVENTS_KEY);
      const err = (await sut
        .enqueue([event('a'), event('b'), event('c')])
        .catch((e: unknown) => e)) as ApiError;
      expect([err.status, err.code, err.headers]).toEqual([429, 'rate_limited', { 'Retry-After': '2' }]);
      expect(queue.add).not.toHaveBeenCalled();
      await expect(sut.enqueue([event('a'), event('b')])).resolves.toBeUndefined();
      expect(queue.add).toHaveBeenCalledTimes(1);
    } finally {
      sut.onApplicationShutdown();
    }
  });
});
