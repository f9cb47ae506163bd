import type { QueuedEvent } from '../queue/queue.contract';
import { requestRejection } from './event-checks';

const rejectedEvent = (over: Record<string, unknown> = {}): Record<string, unknown> => ({
  id: '0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b',
  session_id: '',
  category: 'track',
  name: 'Order Completed',
  data: { type: 'track' },
  timestamp: '2021-01-01T09:15:27.243860Z',
  received_at: '2021-01-01T09:15:27.243860Z',
  client_id: 'client-1',
  rejected: [{ reason: 'envelope_invalid', path: '/batch/1', message: 'no session' }],
  ...over,
});

describe(requestRejection.name, () => {
  it('is null for an event the request did not reject', () => {
    const { rejected: _omitted, ...plain } = rejectedEvent();
    expect(requestRejection(plain)).toBeNull();
    expect(requestRejection(rejectedEvent({ rejected: [] }))).toBeNull();
  });

  it("returns the request's reasons", () => {
    expect(requestRejection(rejectedEvent())).toEqual([
      { reason: 'envelope_invalid', path: '/batch/1', message: 'no session' },
    ]);
  });

  it('fits the event to the quarantine columns: widths, NUL and lone surrogates', () => {
    const e = rejectedEvent({
      session_id: 's'.repeat(300),
      category: 'c\u0000',
      name: 'n'.repeat(99) + '\uD800x',
    });
    expect(requestRejection(e)).not.toBeNull();
    const q = e as unknown as QueuedEvent;
    expect(q.session_id).toHaveLength(128);
    expect(q.category).toBe('c\uFFFD');
    expect(q.name).toBe('n'.repeat(99) + '\uFFFD');
    expect(requestRejection(rejectedEvent({ name: 42 }))).not.toBeNull();
  });

  it('bounds and cleans the reasons: 20 kept, unknown reasons become envelope_invalid', () => {
    const many = Array.from({ length: 25 }, (_, i) => ({
      reason: 'whatever',
      path: `/p/${i}\u0000`,
      message: 'm',
    }));
    const errors = requestRejection(rejectedEvent({ rejected: many })) ?? [];
    expect(errors).toHaveLength(21);
    expect(errors[0]).toEqual({ reason: 'envelope_invalid', path: '/p/0\uFFFD', message: 'm' });
    expect(errors[20].message).toBe('and 5 more error(s)');
  });

  it('is null when the event lacks what a quarantine row needs (a hand-made job)', () => {
    expect(requestRejection(rejectedEvent({ id: 'nope' }))).toBeNull();
    expect(requestRejection(rejectedEvent({ timestamp: 'yesterday' }))).toBeNull();
    expect(requestRejection(rejectedEvent({ client_id: '' }))).toBeNull();
    expect(requestRejection(null)).toBeNull();
  });
});
