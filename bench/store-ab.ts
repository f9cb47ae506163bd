// A/B of the worker's statement alone (EventsRepository.store), two built trees (dist/) against their own
// databases, interleaved in short blocks so that the machine's other load falls on both alike:
//   npx tsx bench/store-ab.ts <tree A> <database A> <tree B> <database B>
// Prints, for 1-event and 800-event calls, each tree's median wall milliseconds per call and the
// CPU its PostgreSQL backend spent per call (utime + stime from /proc: far less sensitive to the
// machine's other load than wall time). One connection per tree.
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { Pool } from 'pg';
import { payloads } from './phases';
import type { BatchDto } from '../packages/client/src/wire/openapi';
import type { QueuedEvent } from '../src/queue/queue.contract';

interface Store {
  store(valid: QueuedEvent[], rejected: never[]): Promise<unknown>;
}

/* eslint-disable @typescript-eslint/no-require-imports */
function repositoryOf(tree: string, url: string): { repo: Store; pool: Pool } {
  const pool = new Pool({ connectionString: url, max: 1, options: '-c role=the_eye_app' });
  const { EventsRepository } = require(join(resolve(tree), 'dist/processing/events.repository')) as {
    EventsRepository: new (...args: unknown[]) => Store;
  };
  let partitions: unknown;
  try {
    const { EventPartitionsRepository } = require(
      join(resolve(tree), 'dist/archive/event-partitions.repository'),
    ) as {
      EventPartitionsRepository: new (pool: Pool) => unknown;
    };
    partitions = new EventPartitionsRepository(pool);
  } catch {
    partitions = undefined; // a tree from before partitions
  }
  return { repo: new EventsRepository(pool, partitions), pool };
}
/* eslint-enable @typescript-eslint/no-require-imports */

function events(n: number): QueuedEvent[] {
  const out: QueuedEvent[] = [];
  const receivedAt = new Date().toISOString();
  while (out.length < n) {
    for (const e of (JSON.parse(payloads.batchBody()) as BatchDto).events) {
      out.push({ ...(e as QueuedEvent), id: randomUUID(), received_at: receivedAt, client_id: 'store-ab' });
    }
  }
  return out.slice(0, n);
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

/** CPU seconds (user + system) a process has used, from /proc (clock ticks of 1/100 s). */
function cpuSeconds(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

async function main(): Promise<void> {
  const [treeA, urlA, treeB, urlB] = process.argv.slice(2);
  const sides = [repositoryOf(treeA, urlA), repositoryOf(treeB, urlB)];
  for (const size of [1, 800]) {
    const blocks = 20;
    const perBlock = size === 1 ? 100 : 10;
    const ms: number[][] = [[], []];
    const cpu = [0, 0];
    for (const s of sides) await s.repo.store(events(size), []); // warm: prepared statements, partitions
    const pids = await Promise.all(
      sides.map(
        async (s) => (await s.pool.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0].pid,
      ),
    );
    for (let b = 0; b < blocks; b++) {
      for (const i of b % 2 ? [1, 0] : [0, 1]) {
        const cpu0 = cpuSeconds(pids[i]);
        for (let k = 0; k < perBlock; k++) {
          const batch = events(size);
          const t0 = performance.now();
          await sides[i].repo.store(batch, []);
          ms[i].push(performance.now() - t0);
        }
        cpu[i] += cpuSeconds(pids[i]) - cpu0;
      }
    }
    const [a, b] = ms.map(median);
    const [ca, cb] = cpu.map((c) => (c * 1000) / ms[0].length);
    console.log(
      `${size} event(s) per call, ${ms[0].length} calls each: wall A ${a.toFixed(3)} ms, B ${b.toFixed(3)} ms, ` +
        `B/A ${(b / a).toFixed(3)}; PostgreSQL CPU A ${ca.toFixed(3)} ms, B ${cb.toFixed(3)} ms, B/A ${(cb / ca).toFixed(3)}`,
    );
  }
  await Promise.all(sides.map((s) => s.pool.end()));
}

void main();
