/**
 * Group commit: callers add items and wait; items added while a write is in flight (or within
 * the same event-loop turn) are written together by the next write. One write per burst instead
 * of one per caller, with each caller still waiting for its own items to be durable.
 *
 * Used twice: by the ingestion producer (the events of concurrent requests become one Bull job)
 * and by the worker (the events of concurrent jobs become one PostgreSQL transaction).
 */
export interface GroupCommitOptions<T> {
  /** Writes one group. Rejecting fails every caller of the group (see isolate). */
  write: (items: T[]) => Promise<void>;
  /** Items above which a write starts at once rather than on the next turn; callers beyond it wait for the next write. */
  maxItems: number;
  /** Writes in flight at once; callers arriving meanwhile form the next group. */
  maxInflight: number;
  /**
   * How long a small group waits for more callers before it is written (default 0: until the
   * next event-loop turn). Reaching maxItems or lingerBelow ends the wait; a write completing
   * meanwhile does not, and a group whose linger ended while every write slot was busy goes out
   * as soon as one frees.
   */
  lingerMs?: number;
  /**
   * Waiting items from which the group no longer lingers: it is written on the next turn, as
   * without lingerMs (default: it lingers until maxItems). Lingering only pays for small groups.
   */
  lingerBelow?: number;
  /**
   * When a group of several callers fails with an error for which this returns true, each
   * caller's items are written again on their own, so one caller's bad data cannot fail the others.
   */
  isolate?: (err: unknown) => boolean;
}

interface Waiter<T> {
  items: T[];
  resolve: () => void;
  reject: (err: unknown) => void;
}

export class GroupCommit<T> {
  private pending: Waiter<T>[] = [];
  private pendingItems = 0;
  private inflight = 0;
  private scheduled = false;
  private lingerTimer: NodeJS.Timeout | undefined;

  constructor(private readonly opts: GroupCommitOptions<T>) {}

  /** Items waiting for a write (not yet in flight). */
  get waiting(): number {
    return this.pendingItems;
  }

  add(items: T[]): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.pending.push({ items, resolve, reject });
      this.pendingItems += items.length;
      if (this.pendingItems >= this.opts.maxItems) this.flush();
      else this.schedule();
    });
  }

  /** Writes the waiting group on the next turn, or after lingerMs while it is small. */
  private schedule(): void {
    const linger = !!this.opts.lingerMs && this.pendingItems < (this.opts.lingerBelow ?? Infinity);
    if (this.lingerTimer && !linger) {
      // Grown past lingerBelow while lingering: stop waiting.
      clearTimeout(this.lingerTimer);
      this.lingerTimer = undefined;
      this.scheduled = false;
    }
    if (this.scheduled) return;
    this.scheduled = true;
    const run = (): void => {
      this.scheduled = false;
      this.lingerTimer = undefined;
      this.flush();
    };
    if (linger) this.lingerTimer = setTimeout(run, this.opts.lingerMs);
    else setImmediate(run);
  }

  private flush(): void {
    if (this.pending.length === 0 || this.inflight >= this.opts.maxInflight) return;
    // Whole callers, up to maxItems (at least one): a write never grows without bound.
    let take = 0;
    let count = 0;
    while (
      take < this.pending.length &&
      (take === 0 || count + this.pending[take].items.length <= this.opts.maxItems)
    ) {
      count += this.pending[take].items.length;
      take++;
    }
    const group = this.pending.splice(0, take);
    this.pendingItems -= count;
    this.inflight++;
    const items = group.length === 1 ? group[0].items : group.flatMap((w) => w.items);
    this.opts
      .write(items)
      .then(
        () => group.forEach((w) => w.resolve()),
        (err: unknown) => {
          if (group.length > 1 && this.opts.isolate?.(err)) {
            for (const w of group) this.opts.write(w.items).then(w.resolve, w.reject);
          } else group.forEach((w) => w.reject(err));
        },
      )
      .finally(() => {
        this.inflight--;
        // A small group still within its linger keeps gathering callers until its timer.
        if (this.lingerTimer === undefined) this.flush();
      });
    // Callers left over (beyond maxItems) go out in the next free slot.
    if (this.pending.length > 0) this.flush();
  }
}
