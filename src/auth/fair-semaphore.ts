/** Thrown when a source already has its maximum number of tasks waiting, or the whole line is full. */
export class QueueFullError extends Error {
  constructor(readonly key: string) {
    super(`too many waiting tasks for ${key}`);
  }
}

/**
 * At most `max` tasks run at once; waiting tasks are served round-robin across keys (the source of
 * the request), so one source that queues a thousand tasks delays another source's task by at most
 * one turn, not a thousand. Each key may have at most `maxWaitingPerKey` tasks waiting, and all
 * keys together at most `maxWaiting`: a task is never queued behind more than `maxWaiting` others
 * (many sources, each with a little, cannot make the line unbounded either).
 */
export class FairSemaphore {
  private running = 0;
  private waitingCount = 0;
  /** Waiting tasks per key; the Map's insertion order is the round-robin order. */
  private readonly waiting = new Map<string, Array<() => void>>();

  constructor(
    private readonly max: number,
    private readonly maxWaitingPerKey: number,
    private readonly maxWaiting = Number.POSITIVE_INFINITY,
  ) {}

  async run<T>(key: string, task: () => Promise<T>): Promise<T> {
    if (this.running < this.max && this.waiting.size === 0) {
      this.running++;
    } else {
      if (this.waitingCount >= this.maxWaiting) throw new QueueFullError(key);
      let queue = this.waiting.get(key);
      if (queue === undefined) {
        queue = [];
        this.waiting.set(key, queue);
      }
      if (queue.length >= this.maxWaitingPerKey) throw new QueueFullError(key);
      const mine = queue;
      this.waitingCount++;
      // The slot is handed over by release(): `running` already counts this task.
      await new Promise<void>((resolve) => mine.push(resolve));
    }
    try {
      return await task();
    } finally {
      this.release();
    }
  }

  /** Tasks waiting (all keys). */
  get pending(): number {
    return this.waitingCount;
  }

  private release(): void {
    const first = this.waiting.entries().next();
    if (first.done) {
      this.running--;
      return;
    }
    const [key, queue] = first.value;
    const next = queue.shift() as () => void;
    this.waitingCount--;
    // Served once: the key goes to the back of the line (or leaves it when it has nothing left).
    this.waiting.delete(key);
    if (queue.length > 0) this.waiting.set(key, queue);
    next();
  }
}
