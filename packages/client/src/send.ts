import type { EyeClient, EyeEvent, RejectedEvent, SentBatch } from './client';
import type { EyeError } from './errors';
import { forEachLine } from './lines';
import type { VerdictWaiter } from './verdicts';

export interface SendSummary {
  lines: number;
  /** Events handed to the client (lines that were JSON objects with a timestamp). */
  tracked: number;
  /** Events the server queued (202): not yet stored, the worker still judges them. */
  queued: number;
  /** Events refused before being queued: by the server's request checks, or here (no timestamp). */
  rejected: number;
  /** Lines skipped: not JSON, not an object, or too long. */
  bad: number;
  /** Events of batches given up after the retries. */
  failed: number;
  seconds: number;
}

export interface SendIo {
  /** One message per problem (bad line, rejected event, failed batch). */
  report(message: string): void;
  /** Called about every `progressMs` with the running totals (a TTY progress line). */
  progress?(summary: SendSummary): void;
  progressMs?: number;
  /**
   * What to do with a line without a timestamp. Absent: refuse it, as the API does (a backfill
   * must not store old events at the time it runs). 'now': stamp it with the time it is read.
   */
  defaultTimestamp?: 'now';
  /** Learns each queued event's verdict (stored / rejected); sending waits while it is full. */
  verdicts?: VerdictWaiter;
}

/**
 * Streams NDJSON events from `input` through `client`: every line is parsed and tracked; a bad
 * line is reported with its number and skipped. Reading waits whenever the client's queue is full,
 * so memory stays flat however large the input. Resolves once every batch has settled.
 */
export async function sendNdjson(
  input: AsyncIterable<Buffer | string>,
  client: EyeClient,
  io: SendIo,
  maxLineChars = 1024 * 1024,
): Promise<SendSummary> {
  const started = performance.now();
  const s: SendSummary = { lines: 0, tracked: 0, queued: 0, rejected: 0, bad: 0, failed: 0, seconds: 0 };
  // Line numbers of the events in flight, to name the line of a rejected or failed event.
  const lineOf = new Map<string, number>();
  // Ids of a batch refused one by one: its 'rejected' events come before its 'sent'.
  const refused = new Set<string>();
  const verdicts = io.verdicts;
  let fatal: EyeError | undefined;

  const onSent = ({ ids, accepted }: SentBatch): void => {
    s.queued += accepted;
    for (const id of ids) {
      if (verdicts && !refused.delete(id)) verdicts.add(id, lineOf.get(id));
      lineOf.delete(id);
    }
  };
  const onRejected = ({ id, errors }: RejectedEvent): void => {
    s.rejected++;
    if (verdicts) refused.add(id);
    const what = errors.map((e) => `${e.path.replace(/^\/events\/\d+/, '') || '/'} ${e.message}`).join('; ');
    io.report(`line ${lineOf.get(id) ?? '?'}: rejected by the server: ${what}`);
  };
  const onError = (err: EyeError): void => {
    if (err.code === 'auth_failed') fatal ??= err;
    s.failed += err.ids.length;
    const lines = err.ids.map((id) => lineOf.get(id)).filter((n): n is number => n !== undefined);
    for (const id of err.ids) lineOf.delete(id);
    const shown = lines.slice(0, 10).join(', ') + (lines.length > 10 ? ', …' : '');
    io.report(`${err.ids.length} events not sent (lines ${shown}): ${err.message}`);
  };
  client.on('sent', onSent);
  client.on('rejected', onRejected);
  client.on('error', onError);
  const ticker = io.progress
    ? setInterval(() => io.progress?.(snapshot()), io.progressMs ?? 250).unref()
    : undefined;
  const snapshot = (): SendSummary => ({ ...s, seconds: (performance.now() - started) / 1000 });

  try {
    s.lines = await forEachLine(input, maxLineChars, (text, lineNo) => {
      if (fatal) throw fatal;
      s.lines = lineNo;
      if (text === null) return bad(lineNo, `longer than ${maxLineChars} characters`);
      if (text.trim() === '') return;
      let event: unknown;
      try {
        event = JSON.parse(text);
      } catch (err) {
        return bad(lineNo, `not JSON (${err instanceof Error ? err.message : String(err)})`);
      }
      if (event === null || typeof event !== 'object' || Array.isArray(event)) {
        return bad(lineNo, 'not a JSON object');
      }
      if ((event as EyeEvent).timestamp === undefined) {
        if (io.defaultTimestamp !== 'now') {
          s.rejected++;
          return io.report(
            `line ${lineNo}: rejected: /timestamp is required (--default-timestamp now stamps such lines with the time they are sent)`,
          );
        }
        (event as EyeEvent).timestamp = new Date().toISOString();
      }
      let id: string;
      try {
        id = client.track(event as EyeEvent);
      } catch (err) {
        return bad(lineNo, err instanceof Error ? err.message : String(err));
      }
      s.tracked++;
      lineOf.set(id, lineNo);
      if (client.queued >= client.maxQueueSize) return client.waitForRoom();
      if (verdicts) return verdicts.waitForRoom();
    });
    await client.flush();
    if (fatal) throw fatal;
  } finally {
    if (ticker) clearInterval(ticker);
    client.off('sent', onSent);
    client.off('rejected', onRejected);
    client.off('error', onError);
  }
  return snapshot();

  function bad(lineNo: number, why: string): void {
    s.bad++;
    io.report(`line ${lineNo}: skipped, ${why}`);
  }
}
