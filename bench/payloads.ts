/**
 * Request bodies of the benchmark (bench/bench.ts and its paced generator, bench/paced.ts):
 * events shaped like SPEC.md's example, each with a fresh UUIDv7 id (as the reusable client sends it)
 * unless `ids` is false, a session drawn from a pool of 1,000 and a current timestamp in the space form
 * with 6 fractional digits.
 */
import { randomFillSync, randomUUID } from 'node:crypto';

const HEX = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'));

export interface PayloadOptions {
  ids?: boolean;
  batchSize?: number;
  batchData?: 'native' | 'segment';
}

export interface Payloads {
  singleBody: () => string;
  batchBody: (size?: number) => string;
  segmentBatchBody: (size?: number) => string;
}

export function makePayloads({
  ids = true,
  batchSize = 100,
  batchData = 'native',
}: PayloadOptions = {}): Payloads {
  const pool = Buffer.alloc(16 * 1024);
  let poolPos = pool.length;
  const randomBytes = (n: number): Buffer => {
    if (poolPos + n > pool.length) {
      randomFillSync(pool);
      poolPos = 0;
    }
    poolPos += n;
    return pool.subarray(poolPos - n, poolPos);
  };
  /**
   * RFC 9562 UUIDv7 from a random pool: the load generator shares the machine's cores with the
   * service it measures, so it keeps its own id maker, several times cheaper than the uuid package
   * the product uses (ordering within a millisecond does not matter to a load).
   */
  const uuidv7 = (): string => {
    const t = Date.now().toString(16).padStart(12, '0');
    const r = randomBytes(10);
    return (
      `${t.slice(0, 8)}-${t.slice(8, 12)}-7${HEX[r[0]].slice(1)}${HEX[r[1]]}-` +
      `${HEX[(r[2] & 0x3f) | 0x80]}${HEX[r[3]]}-${HEX[r[4]]}${HEX[r[5]]}${HEX[r[6]]}${HEX[r[7]]}${HEX[r[8]]}${HEX[r[9]]}`
    );
  };
  const sessions = Array.from({ length: 1000 }, () => randomUUID());
  let sessionCursor = 0;
  let usCounter = 0;
  /** "YYYY-MM-DD HH:MM:SS.ffffff" (space form, no zone, 6 digits) of now: never in the future. */
  const timestampNow = (): string => {
    const iso = new Date().toISOString();
    return `${iso.slice(0, 10)} ${iso.slice(11, 23)}${String(usCounter++ % 1000).padStart(3, '0')}`;
  };
  const eventJson = (): string => {
    const sid = sessions[(sessionCursor = (sessionCursor + 7) % sessions.length)];
    return (
      `{${ids ? `"id":"${uuidv7()}",` : ''}"session_id":"${sid}","category":"page interaction","name":"pageview",` +
      `"data":{"host":"www.consumeraffairs.com","path":"/"},"timestamp":"${timestampNow()}"}`
    );
  };
  /**
   * A native event as large as what a segment-batch message becomes (batchData 'segment'): the same
   * category, name and data (the message itself), so the two routes can be compared on equal events.
   */
  const segmentShapedEventJson = (): string => {
    const sid = sessions[(sessionCursor = (sessionCursor + 7) % sessions.length)];
    const now = new Date().toISOString();
    return (
      `{${ids ? `"id":"${uuidv7()}",` : ''}"session_id":"${sid}","category":"catalog","name":"Product Viewed",` +
      `"data":{"type":"track","anonymousId":"${sid}",` +
      `"properties":{"category":"catalog","host":"www.consumeraffairs.com","path":"/"},` +
      `"context":{"library":{"name":"@segment/analytics-node","version":"3.1.0"}},"timestamp":"${now}","sentAt":"${now}"},` +
      `"timestamp":"${timestampNow()}"}`
    );
  };
  const batchEventJson = batchData === 'segment' ? segmentShapedEventJson : eventJson;
  const singleBody = (): string => eventJson();
  const batchBody = (size = batchSize): string => {
    const parts = new Array<string>(size);
    for (let i = 0; i < size; i++) parts[i] = batchEventJson();
    return `{"events":[${parts.join(',')}]}`;
  };
  /**
   * The same batch as Segment's HTTP Tracking API carries it (/v1/batch, what @segment/analytics-node
   * sends): track calls with a messageId (the idempotency key), the session as anonymousId, the SDK's
   * per-message context, an ISO timestamp and the request's sentAt. A type without a schema
   * (catalog/Product Viewed), so every message is stored.
   */
  const segmentMessageJson = (): string => {
    const sid = sessions[(sessionCursor = (sessionCursor + 7) % sessions.length)];
    return (
      `{"type":"track","messageId":"${uuidv7()}","anonymousId":"${sid}","event":"Product Viewed",` +
      `"properties":{"category":"catalog","host":"www.consumeraffairs.com","path":"/"},` +
      `"context":{"library":{"name":"@segment/analytics-node","version":"3.1.0"}},"timestamp":"${new Date().toISOString()}"}`
    );
  };
  const segmentBatchBody = (size = batchSize): string => {
    const parts = new Array<string>(size);
    for (let i = 0; i < size; i++) parts[i] = segmentMessageJson();
    return `{"batch":[${parts.join(',')}],"sentAt":"${new Date().toISOString()}"}`;
  };
  return { singleBody, batchBody, segmentBatchBody };
}
