import { InjectQueue } from '@nestjs/bull';
import { Injectable, Logger, type OnApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import type { Queue } from 'bull';
import {
  EVENTS_QUEUE,
  type IngestJobData,
  QUEUED_EVENTS_KEY,
  parseQueuedMark,
} from '../queue/queue.contract';

/** Between sweeps: a mark is removed after two of them found its job gone, so 1-2 minutes after. */
const SWEEP_INTERVAL_MS = 60_000;
/** Marks read per HSCAN step: memory stays bounded however large the backlog. */
const SCAN_COUNT = 1_000;

/** Deletes each field whose value is still the one the sweep saw (a retried event may be marked anew). */
const HDEL_IF_UNCHANGED = `
local n = 0
for i = 1, #ARGV, 2 do
  if redis.call('HGET', KEYS[1], ARGV[i]) == ARGV[i + 1] then
    n = n + redis.call('HDEL', KEYS[1], ARGV[i])
  end
end
return n`;

/**
 * Bounds the life of a "queued" mark: the producer marks events queued just before it adds their
 * job, and the worker unmarks them after it stored them. A crash between mark and job, or a job
 * that failed for good (every attempt spent; Bull keeps it as failed), would otherwise leave the
 * events "queued" forever and counted in the backlog that answers 429.
 *
 * Every SWEEP_INTERVAL_MS, each mark's job (the mark names it) is looked up; one whose job is
 * missing or failed in two sweeps in a row is removed. Two, because the producer writes the mark a
 * moment before the job: a sweep in between sees a job that does not exist yet. Runs in each process
 * that consumes the queue; several sweeping at once only repeat each other's work.
 */
@Injectable()
export class QueuedMarksSweeper implements OnModuleInit, OnApplicationShutdown {
  private readonly logger = new Logger(QueuedMarksSweeper.name);
  private timer: NodeJS.Timeout | undefined;
  /** Jobs found missing or failed by the previous sweep. */
  private suspects = new Set<string>();
  private running = false;

  constructor(@InjectQueue(EVENTS_QUEUE) private readonly queue: Queue<IngestJobData>) {}

  onModuleInit(): void {
    this.timer = setInterval(() => void this.sweep().catch(() => undefined), SWEEP_INTERVAL_MS);
    this.timer.unref();
  }

  onApplicationShutdown(): void {
    clearInterval(this.timer);
  }

  /** One sweep; returns the number of marks removed. */
  async sweep(): Promise<number> {
    if (this.running || this.queue.client.status !== 'ready') return 0;
    this.running = true;
    try {
      return await this.scan();
    } catch (err) {
      this.logger.warn(`sweeping queued marks failed: ${(err as Error).message}`);
      return 0;
    } finally {
      this.running = false;
    }
  }

  private async scan(): Promise<number> {
    const client = this.queue.client;
    const dead = new Set<string>();
    let removed = 0;
    let cursor = '0';
    do {
      const [next, flat] = await client.hscan(QUEUED_EVENTS_KEY, cursor, 'COUNT', SCAN_COUNT);
      cursor = next;
      const byJob = new Map<string, string[]>();
      for (let i = 0; i < flat.length; i += 2) {
        const { jobId } = parseQueuedMark(flat[i + 1]);
        if (jobId === undefined) continue; // written by hand: no job to judge it by
        const pairs = byJob.get(jobId) ?? [];
        pairs.push(flat[i], flat[i + 1]);
        byJob.set(jobId, pairs);
      }
      const gone = await this.goneJobs([...byJob.keys()]);
      const doomed: string[] = [];
      for (const jobId of gone) {
        dead.add(jobId);
        if (this.suspects.has(jobId)) doomed.push(...(byJob.get(jobId) ?? []));
      }
      if (doomed.length) {
        const n = (await client.eval(HDEL_IF_UNCHANGED, 1, QUEUED_EVENTS_KEY, ...doomed)) as number;
        removed += n;
      }
    } while (cursor !== '0');
    this.suspects = dead;
    if (removed)
      this.logger.warn(
        `removed ${removed} "queued" mark(s) whose job was lost or failed for good (see the failed jobs)`,
      );
    return removed;
  }

  /** Of these job ids, those whose job does not exist or has failed for good. */
  private async goneJobs(jobIds: string[]): Promise<string[]> {
    if (jobIds.length === 0) return [];
    const pipeline = this.queue.client.pipeline();
    const failed = this.queue.toKey('failed');
    for (const id of jobIds) {
      pipeline.exists(this.queue.toKey(id));
      pipeline.zscore(failed, id);
    }
    const results = (await pipeline.exec()) ?? [];
    return jobIds.filter((_, i) => {
      const [existsErr, exists] = results[2 * i] ?? [];
      const [failedErr, score] = results[2 * i + 1] ?? [];
      if (existsErr || failedErr) return false;
      return exists === 0 || score !== null;
    });
  }
}
