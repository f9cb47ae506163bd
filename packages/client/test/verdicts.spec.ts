import { TokenProvider } from '../src/token';
import { type Rejection, VerdictWaiter } from '../src/verdicts';
import type { EventStatusDto } from '../src/wire/openapi';

type Script = (id: string, n: number) => { status: number; body?: unknown; headers?: Record<string, string> };

/** A fetch stand-in: tokens always granted; `GET /v1/events/{id}` answered by `script` (n counts asks per id). */
function fakeFetch(script: Script): {
  fetch: typeof fetch;
  asks: Map<string, number>;
  maxInFlight: () => number;
} {
  const asks = new Map<string, number>();
  let inFlight = 0;
  let most = 0;
  const impl: typeof fetch = async (input) => {
    const url = input instanceof Request ? input.url : input.toString();
    if (url.endsWith('/v1/auth/token')) {
      return Response.json({ access_token: 't', token_type: 'Bearer', expires_in: 3600 });
    }
    const id = url.slice(url.lastIndexOf('/') + 1);
    const n = asks.get(id) ?? 0;
    asks.set(id, n + 1);
    inFlight++;
    most = Math.max(most, inFlight);
    await new Promise((r) => setTimeout(r, 1));
    inFlight--;
    const a = script(id, n);
    return new Response(a.body === undefined ? '' : JSON.stringify(a.body), {
      status: a.status,
      headers: a.headers,
    });
  };
  return { fetch: impl, asks, maxInFlight: () => most };
}

function waiter(f: typeof fetch, over: Partial<ConstructorParameters<typeof VerdictWaiter>[0]> = {}) {
  const rejected: [number | undefined, Rejection[]][] = [];
  const unknown: [number | undefined, string][] = [];
  const sut = new VerdictWaiter({
    baseUrl: 'http://eye.test',
    tokens: new TokenProvider({
      baseUrl: 'http://eye.test',
      clientId: 'c',
      clientSecret: 's',
      fetch: f,
      timeoutMs: 1000,
    }),
    fetch: f,
    timeoutMs: 1000,
    pollMs: 5,
    maxRetries: 3,
    onRejected: (_id, tag, reasons) => rejected.push([tag, reasons]),
    onUnknown: (_id, tag, why) => unknown.push([tag, why]),
    ...over,
  });
  return { sut, rejected, unknown };
}

describe(VerdictWaiter.name, () => {
  it('asks again while an event is queued, then counts stored and rejected (with reasons and line)', async () => {
    const reasons = [{ reason: 'payload_invalid', path: '/data/path', message: 'must be string' }];
    const f = fakeFetch((id, n) => {
      if (n < 2) return { status: 200, body: { id, status: 'queued' } };
      return id === 'b'
        ? {
            status: 200,
            // As the server answers it: bare reason codes beside the errors that explain them.
            body: {
              id,
              status: 'rejected',
              client_id: 'c',
              reasons: ['payload_invalid'],
              errors: reasons,
            } satisfies EventStatusDto,
          }
        : { status: 200, body: { id, status: 'stored' } };
    });
    const { sut, rejected, unknown } = waiter(f.fetch);
    sut.add('a', 1);
    sut.add('b', 2);
    sut.add('c', 3);
    expect(await sut.done()).toEqual({ stored: 2, rejected: 1, unknown: 0 });
    expect(rejected).toEqual([[2, reasons]]);
    expect(unknown).toEqual([]);
    expect([...f.asks.values()]).toEqual([3, 3, 3]);
  });

  it("reports a rejection's errors, or its reason codes when it has no errors (as the server answers)", async () => {
    const errors = [{ reason: 'payload_invalid', path: '/data/path', message: 'must be string' }];
    const f = fakeFetch((id) =>
      id === 'with-errors'
        ? { status: 200, body: { id, status: 'rejected', reasons: ['payload_invalid'], errors } }
        : { status: 200, body: { id, status: 'rejected', reasons: ['timestamp_in_future'], errors: [] } },
    );
    const { sut, rejected } = waiter(f.fetch);
    sut.add('with-errors', 1);
    sut.add('codes-only', 2);
    expect(await sut.done()).toEqual({ stored: 0, rejected: 2, unknown: 0 });
    expect(rejected).toEqual([
      [1, errors],
      [2, [{ reason: 'timestamp_in_future' }]],
    ]);
  });

  it('retries a 503 (Retry-After), and reports 404 as unknown without retrying', async () => {
    const f = fakeFetch((id, n) => {
      if (id === 'gone') return { status: 404, body: { code: 'not_found', message: `No event ${id}` } };
      return n === 0
        ? { status: 503, headers: { 'retry-after': '0' } }
        : { status: 200, body: { id, status: 'stored' } };
    });
    const { sut, unknown } = waiter(f.fetch);
    sut.add('ok', 1);
    sut.add('gone', 2);
    expect(await sut.done()).toEqual({ stored: 1, rejected: 0, unknown: 1 });
    expect(unknown).toEqual([[2, expect.stringMatching(/answered 404: not_found/)]]);
    expect(f.asks.get('ok')).toBe(2);
    expect(f.asks.get('gone')).toBe(1);
  });

  it('bounds what awaits a verdict: waitForRoom holds the producer, concurrency caps requests', async () => {
    const f = fakeFetch((id) => ({ status: 200, body: { id, status: 'stored' } }));
    const { sut } = waiter(f.fetch, { maxPending: 20, concurrency: 4 });
    let most = 0;
    for (let i = 0; i < 200; i++) {
      await sut.waitForRoom();
      sut.add(`e${i}`, i);
      most = Math.max(most, sut.pending);
    }
    expect(await sut.done()).toEqual({ stored: 200, rejected: 0, unknown: 0 });
    expect(most).toBeLessThanOrEqual(20);
    expect(f.maxInFlight()).toBeLessThanOrEqual(4);
  });
});
