// The arrival order of stored events (events.seq), the tie-breaker after their timestamp.
// docs/ordering.md says why it is derived from the Bull job id.

/**
 * Positions per job: a job holds at most one request larger than the producer's group size, and
 * no request holds a million events (MAX_BATCH_EVENTS, the Segment route's MAX_MESSAGES).
 */
const POSITIONS = 1_000_000;
/** Job ids in 12 digits: a trillion jobs (31 years at 1,000 jobs a second); keys stay below 2 × 10^18. */
const MAX_JOB_ID = 999_999_999_999;

/**
 * The arrival keys of a job's events: 10^18 + job id × 10^6 + position, as decimal text (beyond
 * JS numbers' exact range; PostgreSQL reads it as bigint). Bull numbers jobs with an INCR in
 * Redis as they are added, before any of their requests is acknowledged, and a job lists its
 * requests' events in the order they were accepted: so the keys follow acknowledgement order
 * across every API process, then the position in the request, whichever worker transaction
 * stores them and however often the job is retried. Keys from 10^18 up never meet the column's
 * own sequence (rows written before, or by other means), which stays far below.
 *
 * Undefined when the job id is not one of Bull's (a hand-made job): those events take the
 * column's sequence.
 */
export function arrivalKeys(jobId: unknown, count: number): ((position: number) => string) | undefined {
  const n =
    typeof jobId === 'number' ? jobId : typeof jobId === 'string' && /^\d{1,12}$/.test(jobId) ? +jobId : NaN;
  if (!Number.isSafeInteger(n) || n < 1 || n > MAX_JOB_ID || count > POSITIONS) return undefined;
  // "1", the job id in 12 digits, the position in 6: 10^18 + n × 10^6 + position.
  const prefix = `1${String(n).padStart(12, '0')}`;
  return (position) => prefix + String(position).padStart(6, '0');
}
