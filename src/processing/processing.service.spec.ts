import type { Queue } from 'bull';
import type { AppConfig } from '../config/config';
import { MetricsService } from '../metrics/metrics.service';
import { QUEUED_EVENTS_KEY, type QueuedEvent, queuedField } from '../queue/queue.contract';
import type { ValidationResult, ValidatorRegistry } from '../schemas/validator-registry';
import type { EventsRepository, Quarantined, StoreResult } from './events.repository';
import { ProcessingService } from './processing.service';

/** A mock that fails the test on any call it was not told to expect. */
function strict<R, A extends unknown[]>(name: string): jest.Mock<R, A> {
  return jest.fn<R, A>(() => {
    throw new Error(`unexpected call of ${name}`);
  });
}

const pgError = (code: string): Error => Object.assign(new Error(`SQLSTATE ${code}`), { code });

let seq = 0;
function event(over: Partial<QueuedEvent> = {}): QueuedEvent {
  seq++;
  return {
    id: `00000000-0000-4000-8000-${String(seq).padStart(12, '0')}`,
    session_id: 's1',
    category: 'page',
    name: 'view',
    data: { n: seq },
    timestamp: '2026-11-27T10:00:00.000000Z',
    received_at: '2026-11-27T10:00:00.500000Z',
    client_id: 'app',
    ...over,
  };
}

/** The event's "queued" mark: ids belong to their client. */
const mark = (e: QueuedEvent): string => queuedField(e.id, e.client_id);

describe(ProcessingService.name, () => {
  let store: jest.Mock<Promise<StoreResult>, [QueuedEvent[], Quarantined[]]>;
  let hdel: jest.Mock<Promise<number>, string[]>;
  let validate: jest.Mock<ValidationResult | null, [string, string, unknown]>;
  let metrics: MetricsService;
  let sut: ProcessingService;

  beforeEach(() => {
    store = strict('EventsRepository.store');
    hdel = strict('redis.hdel');
    validate = strict('ValidatorRegistry.validate');
    metrics = new MetricsService();
    const events = { store } as unknown as EventsRepository;
    const queue = { client: { hdel } } as unknown as Queue;
    const registry = { validate } as unknown as ValidatorRegistry;
    const config = {
      maxClockSkewMs: 60_000,
      maxPayloadDepth: 32,
      maxEventBytes: 65_536,
      unknownEventTypes: 'accept',
    } as AppConfig;
    sut = new ProcessingService(events, queue, config, registry, metrics);
  });

  /** Stores what it is given: every valid event new, every rejected one quarantined. */
  const storeAll = (valid: QueuedEvent[], rejected: Quarantined[]): Promise<StoreResult> =>
    Promise.resolve({ inserted: valid.length, quarantined: rejected.length });

  it('quarantines the event that fails its schema and stores the others of the job, in one transaction', async () => {
    const good1 = event();
    const bad = event({ name: 'signup' });
    const good2 = event();
    validate.mockImplementation((_c, name) =>
      name === 'signup'
        ? { violations: [{ path: '/data/email', message: 'is required' }], omitted: 0 }
        : null,
    );
    store.mockImplementation(storeAll);
    hdel.mockResolvedValue(3);

    await sut.process([good1, bad, good2]);

    expect(store).toHaveBeenCalledTimes(1);
    const [valid, rejected] = store.mock.calls[0];
    expect(valid).toEqual([good1, good2]);
    expect(rejected).toEqual([
      { event: bad, errors: [{ reason: 'payload_invalid', path: '/data/email', message: 'is required' }] },
    ]);
    expect(hdel).toHaveBeenCalledWith(QUEUED_EVENTS_KEY, ...[good1, bad, good2].map(mark));
    expect(metrics.counters).toMatchObject({ eventsStored: 2, eventsQuarantined: 1, jobsCompleted: 1 });
  });

  it("gives a job's events their arrival order from the job id and their position, never from their ids", async () => {
    const [first, second, third] = [event({ id: 'ffffffff-0000-4000-8000-000000000000' }), event(), event()];
    validate.mockReturnValue(null);
    store.mockImplementation(storeAll);
    hdel.mockResolvedValue(3);

    await sut.process([first, second, third], '42');

    const [valid] = store.mock.calls[0];
    expect(valid.map((e) => e.seq)).toEqual([
      '1000000000042000000',
      '1000000000042000001',
      '1000000000042000002',
    ]);
  });

  it("drops an arrival order a job carried when the job id is not one of Bull's", async () => {
    const carried = { ...event(), seq: '1' };
    validate.mockReturnValue(null);
    store.mockImplementation(storeAll);
    hdel.mockResolvedValue(1);

    await sut.process([carried], 'hand-made');

    expect(store.mock.calls[0][0][0].seq).toBeUndefined();
  });

  it('skips an event it cannot key and still stores the rest of the job', async () => {
    const good = event();
    validate.mockReturnValue(null);
    store.mockImplementation(storeAll);
    hdel.mockResolvedValue(1);

    await sut.process([{ id: 42 }, null, good]);

    expect(store).toHaveBeenCalledWith([good], []);
    expect(hdel).toHaveBeenCalledWith(QUEUED_EVENTS_KEY, mark(good));
  });

  it('writes the jobs of a failed group again one by one on a data error: only the bad job fails', async () => {
    const good = event();
    const bad = event({ session_id: 'poison' });
    validate.mockReturnValue(null);
    store.mockImplementation((valid, rejected) =>
      valid.some((e) => e.session_id === 'poison')
        ? Promise.reject(pgError('22P05'))
        : storeAll(valid, rejected),
    );
    hdel.mockResolvedValue(1);

    // Added in the same turn: one group, one failed transaction, then one per job.
    const results = await Promise.allSettled([sut.process([good]), sut.process([bad])]);

    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected']);
    expect(store.mock.calls.map(([valid]) => valid.map((e) => e.id))).toEqual([
      [good.id, bad.id],
      [good.id],
      [bad.id],
    ]);
    expect(hdel).toHaveBeenCalledTimes(1);
    expect(hdel).toHaveBeenCalledWith(QUEUED_EVENTS_KEY, mark(good));
    expect(metrics.counters).toMatchObject({ eventsStored: 1, jobsCompleted: 1 });
  });

  it('fails the whole group on an error that is not in the data (Bull retries each job)', async () => {
    validate.mockReturnValue(null);
    store.mockRejectedValue(new Error('connection terminated'));

    const results = await Promise.allSettled([sut.process([event()]), sut.process([event()])]);

    expect(results.map((r) => r.status)).toEqual(['rejected', 'rejected']);
    expect(store).toHaveBeenCalledTimes(1);
    expect(metrics.counters.jobsCompleted).toBe(0);
  });

  it.each([
    ['deadlock', '40P01'],
    ['serialization failure', '40001'],
  ])('retries a transaction that failed with a %s at once', async (_name, code) => {
    const e = event();
    validate.mockReturnValue(null);
    store
      .mockRejectedValueOnce(pgError(code))
      .mockRejectedValueOnce(pgError(code))
      .mockImplementation(storeAll);
    hdel.mockResolvedValue(1);

    await sut.process([e]);

    expect(store).toHaveBeenCalledTimes(3);
    expect(store.mock.calls.every(([valid]) => valid[0] === e)).toBe(true);
    expect(metrics.counters.eventsStored).toBe(1);
  });

  it('gives up after five deadlocks in a row and fails the job (Bull retries it later)', async () => {
    validate.mockReturnValue(null);
    store.mockRejectedValue(pgError('40P01'));

    await expect(sut.process([event()])).rejects.toMatchObject({ code: '40P01' });

    expect(store).toHaveBeenCalledTimes(5);
    expect(hdel).not.toHaveBeenCalled();
  });

  it('does not retry other errors of a transaction', async () => {
    validate.mockReturnValue(null);
    store.mockRejectedValue(pgError('57P01'));

    await expect(sut.process([event()])).rejects.toMatchObject({ code: '57P01' });

    expect(store).toHaveBeenCalledTimes(1);
  });
});
