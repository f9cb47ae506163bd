import type { Api, Session } from './api';
import { h } from './dom';
import type { Interval, Range, Zone } from './time';

/** What every panel's refresh sees: the signed-in API and the pickers' current values. */
export interface Ctx {
  api: Api;
  session: Session;
  /** Whole buckets of `interval` (time.ts wholeBuckets): the same instants in every panel. */
  range: Range;
  /** The chart's interval: the one picked, or a coarser one when that would be too many buckets. */
  interval: Interval;
  /** The interval picked, when `interval` had to be coarser. */
  wanted: Interval;
  /** Times are written, and days, weeks and months start, in UTC or the viewer's zone. */
  zone: Zone;
}

export interface Panel {
  el: HTMLElement;
  /** Re-read the data (auto-refresh, picker change); panels driven by a form ignore it. */
  refresh(ctx: Ctx): Promise<void>;
  /** Stop timers, observers and charts before the panel is dropped (sign-out). */
  destroy?(): void;
}

export function panelShell(
  id: string,
  title: string,
  hint: string,
  auto = true,
): { el: HTMLElement; body: HTMLElement } {
  const body = h('div', { class: 'panel-body' });
  const el = h(
    'section',
    { class: 'panel', id, 'aria-labelledby': `${id}-title`, 'data-auto': auto },
    h('header', null, h('h2', { id: `${id}-title` }, title), h('p', { class: 'hint' }, hint)),
    body,
  );
  return { el, body };
}

/**
 * Marks the moment a panel has shown what it read (data, empty state or error), so first paint can
 * be timed from outside (the repository's scripts/dashboard-paint.ts reads these performance marks).
 */
export function painted(id: string): void {
  performance.mark(`the-eye:painted:${id}`);
}

export const PALETTE = [
  '#3b82f6',
  '#f59e0b',
  '#10b981',
  '#ef4444',
  '#8b5cf6',
  '#06b6d4',
  '#ec4899',
  '#84cc16',
  '#f97316',
  '#64748b',
];

/**
 * Runs `task` one call at a time: a call made while one runs is queued (the latest context wins),
 * so a slow answer never piles up refreshes and a picker change is never lost.
 */
export function single(id: string, task: (ctx: Ctx) => Promise<void>): (ctx: Ctx) => Promise<void> {
  let running: Promise<void> | null = null;
  let queued: { ctx: Ctx; done: Promise<void> } | null = null;
  const run = (ctx: Ctx): Promise<void> => {
    running = task(ctx)
      .then(() => painted(id))
      .finally(() => {
        running = null;
      });
    return running;
  };
  return (ctx) => {
    if (!running) return run(ctx);
    if (queued) {
      queued.ctx = ctx;
      return queued.done;
    }
    const current = running;
    const entry: { ctx: Ctx; done: Promise<void> } = {
      ctx,
      done: current
        .catch(() => undefined)
        .then(() => {
          queued = null;
          return run(entry.ctx);
        }),
    };
    queued = entry;
    return entry.done;
  };
}
