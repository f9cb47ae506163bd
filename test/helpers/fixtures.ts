// Rows written straight into the tables the worker maintains, for query tests: faster and more
// precise (exact µs, chosen arrival order) than going through the queue.
import { randomUUID } from 'node:crypto';
import { Client } from 'pg';
import { ensurePartitions } from './db';
import { TEST_DATABASE_URL } from './env';

export interface EventFixture {
  id?: string;
  session_id: string;
  category?: string;
  name?: string;
  data?: Record<string, unknown>;
  /** RFC 3339 with up to 6 fractional digits. */
  timestamp: string;
  received_at?: string;
  client_id?: string;
}

export interface RejectedFixture {
  id?: string;
  session_id?: string;
  category?: string;
  name?: string;
  data?: Record<string, unknown>;
  timestamp?: string;
  received_at?: string;
  client_id: string;
  reasons: string[];
  errors?: { reason: string; path: string; message: string }[];
  rejected_at: string;
}

export class Fixtures {
  /** UTC days whose partition this connection has made sure of. */
  private readonly days = new Set<string>();

  private constructor(private readonly db: Client) {}

  static async connect(url = TEST_DATABASE_URL): Promise<Fixtures> {
    const db = new Client({ connectionString: url });
    await db.connect();
    return new Fixtures(db);
  }

  close(): Promise<void> {
    return this.db.end();
  }

  /**
   * Inserts the events one by one, in array order, so `seq` (arrival) follows the array, with their
   * day's partition and their key in the ledger as the worker would; returns their ids.
   */
  async events(events: EventFixture[]): Promise<string[]> {
    const ids: string[] = [];
    for (const e of events) {
      const id = e.id ?? randomUUID();
      const day = new Date(e.timestamp).toISOString().slice(0, 10);
      if (!this.days.has(day)) {
        await ensurePartitions(this.db, day);
        this.days.add(day);
      }
      await this.db.query(
        `INSERT INTO events (id, session_id, category, name, data, timestamp, received_at, client_id)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
        [
          id,
          e.session_id,
          e.category ?? 'page interaction',
          e.name ?? 'pageview',
          JSON.stringify(e.data ?? { host: 'example.com', path: '/' }),
          e.timestamp,
          e.received_at ?? e.timestamp,
          e.client_id ?? 'fixture-client',
        ],
      );
      await this.db.query(
        `INSERT INTO event_ids (id, client_id, timestamp, received_at) VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING`,
        [id, e.client_id ?? 'fixture-client', e.timestamp, e.received_at ?? e.timestamp],
      );
      ids.push(id);
    }
    return ids;
  }

  async session(row: {
    session_id: string;
    first_event_at: string;
    last_event_at: string;
    event_count: number;
    client_ids: string[];
  }): Promise<void> {
    await this.db.query(
      `INSERT INTO sessions (session_id, first_event_at, last_event_at, event_count, client_ids) VALUES ($1, $2, $3, $4, $5)`,
      [row.session_id, row.first_event_at, row.last_event_at, row.event_count, row.client_ids],
    );
  }

  async count(
    bucket: string,
    category: string,
    name: string,
    count: number,
    clientId = 'fixture-client',
  ): Promise<void> {
    await this.db.query(
      `INSERT INTO event_counts (bucket, category, name, client_id, count) VALUES ($1, $2, $3, $4, $5)`,
      [bucket, category, name, clientId, count],
    );
  }

  /** `n` events of one category in one statement, 1 µs apart, `data` {"i": 0…n-1} in timestamp order. */
  async bulkEvents(category: string, n: number): Promise<void> {
    await ensurePartitions(this.db, '2021-11-01');
    await this.db.query(
      `INSERT INTO events (id, session_id, category, name, data, timestamp, received_at, client_id)
       SELECT gen_random_uuid(), 'bulk-' || (i % 50), $1, 'pageview', jsonb_build_object('i', i),
              '2021-11-01T00:00:00Z'::timestamptz + i * interval '1 microsecond', now(), 'fixture-client'
         FROM generate_series(0, $2::int - 1) AS i`,
      [category, n],
    );
  }

  async rejected(r: RejectedFixture): Promise<string> {
    const id = r.id ?? randomUUID();
    const event = {
      id,
      session_id: r.session_id ?? randomUUID(),
      category: r.category ?? 'page interaction',
      name: r.name ?? 'pageview',
      data: r.data ?? { host: 'example.com', path: 42 },
      timestamp: r.timestamp ?? '2021-01-01T00:00:00.000000Z',
      received_at: r.received_at ?? '2021-01-01T00:00:00.100000Z',
      client_id: r.client_id,
    };
    await this.db.query(
      `INSERT INTO rejected_events (event_id, session_id, category, name, raw, timestamp, received_at, client_id,
         reasons, errors, rejected_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)`,
      [
        id,
        event.session_id,
        event.category,
        event.name,
        JSON.stringify(event),
        event.timestamp,
        event.received_at,
        r.client_id,
        r.reasons,
        JSON.stringify(
          r.errors ?? r.reasons.map((reason) => ({ reason, path: '/data/path', message: 'must be string' })),
        ),
        r.rejected_at,
      ],
    );
    return id;
  }
}
