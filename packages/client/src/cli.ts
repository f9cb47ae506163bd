#!/usr/bin/env node
import { createReadStream } from 'node:fs';
import { parseArgs } from 'node:util';
import { EyeClient } from './client';
import { EyeError } from './errors';
import { sendNdjson, type SendSummary } from './send';
import { tail } from './tail';
import { TokenProvider } from './token';
import { VerdictWaiter, type Rejection, type VerdictCounts } from './verdicts';

const USAGE = `Usage:
  eye send <events.ndjson|->  [--batch-size 1000] [--concurrency 4] [--max-retries 10] [--quiet]
           [--default-timestamp now] [--wait]
  eye token
  eye tail [--category C] [--name N] [--session-id S] [--client-id ID]
           [--from ISO-8601] [--interval-ms 1000] [--lookback-ms 10000]

Environment: EYE_URL (default http://127.0.0.1:3000), EYE_CLIENT_ID, EYE_CLIENT_SECRET.
A line without a timestamp is refused unless --default-timestamp now stamps it with the time it is
sent. "queued" means the server took the event; --wait then asks for each event's verdict
(stored, or rejected by the worker with its reasons) and reports them.
Exit status: 0 every event queued (with --wait: stored), 1 some were not (or a request failed),
2 bad usage.`;

class UsageError extends Error {}

interface Env {
  baseUrl: string;
  clientId: string;
  clientSecret: string;
}

function credentials(env: NodeJS.ProcessEnv): Env {
  const clientId = env.EYE_CLIENT_ID;
  const clientSecret = env.EYE_CLIENT_SECRET;
  if (!clientId || !clientSecret) throw new UsageError('EYE_CLIENT_ID and EYE_CLIENT_SECRET must be set');
  return { baseUrl: (env.EYE_URL || 'http://127.0.0.1:3000').replace(/\/+$/, ''), clientId, clientSecret };
}

function positiveInt(value: string | undefined, name: string, fallback: number): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0) throw new UsageError(`--${name} must be a whole number`);
  return n;
}

const fmt = (n: number): string => Math.round(n).toLocaleString('en-US');

function describe(s: SendSummary): string {
  const rate = s.seconds > 0 ? s.queued / s.seconds : 0;
  return (
    `${fmt(s.lines)} lines: ${fmt(s.queued)} queued, ${fmt(s.rejected)} rejected, ` +
    `${fmt(s.bad)} bad lines skipped, ${fmt(s.failed)} not sent; ` +
    `${s.seconds.toFixed(1)} s, ${fmt(rate)} events/s`
  );
}

async function send(args: string[], env: Env): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: {
      'batch-size': { type: 'string' },
      concurrency: { type: 'string' },
      'max-retries': { type: 'string' },
      quiet: { type: 'boolean' },
      'default-timestamp': { type: 'string' },
      wait: { type: 'boolean' },
    },
  });
  if (positionals.length !== 1) throw new UsageError('eye send takes one file (or - for stdin)');
  const defaultTimestamp = values['default-timestamp'];
  if (defaultTimestamp !== undefined && defaultTimestamp !== 'now') {
    throw new UsageError('--default-timestamp takes one value: now');
  }
  const file = positionals[0];
  const input = file === '-' ? process.stdin : createReadStream(file, { highWaterMark: 64 * 1024 });
  // Fail on a missing file before any request is made.
  if (file !== '-') {
    await new Promise<void>((resolve, reject) => {
      const stream = input as ReturnType<typeof createReadStream>;
      stream.once('open', () => resolve());
      stream.once('error', reject);
    }).catch((err: Error) => {
      throw new UsageError(`cannot read ${file}: ${err.message}`);
    });
  }
  const client = new EyeClient({
    ...env,
    flushAt: positiveInt(values['batch-size'], 'batch-size', 1000),
    concurrency: positiveInt(values.concurrency, 'concurrency', 4),
    maxRetries: positiveInt(values['max-retries'], 'max-retries', 10),
    maxQueueSize: 2_000,
  });
  const tty = process.stderr.isTTY && !values.quiet;
  const clearLine = (): void => {
    if (tty) process.stderr.write('\r\x1b[K');
  };
  const report = (message: string): void => {
    clearLine();
    process.stderr.write(`${message}\n`);
  };
  const verdicts = values.wait
    ? new VerdictWaiter({
        baseUrl: env.baseUrl,
        tokens: new TokenProvider({ ...env, fetch, timeoutMs: 10_000 }),
        fetch,
        timeoutMs: 10_000,
        onRejected: (_id, line, reasons) =>
          report(`line ${line ?? '?'}: rejected by the worker: ${reasons.map(describeRejection).join('; ')}`),
        onUnknown: (id, line, why) => report(`line ${line ?? '?'}: verdict unknown (${id}): ${why}`),
      })
    : undefined;
  const summary = await sendNdjson(input, client, {
    report,
    progress: tty ? (s) => process.stderr.write(`\r\x1b[K${describe(s)}`) : undefined,
    defaultTimestamp,
    verdicts,
  });
  clearLine();
  await client.close();
  process.stdout.write(`${describe(summary)}\n`);
  const allQueued = summary.queued === summary.tracked && summary.rejected === 0 && summary.bad === 0;
  if (!verdicts) return allQueued ? 0 : 1;
  const counts = await verdicts.done();
  process.stdout.write(`${describeVerdicts(summary.queued, counts)}\n`);
  return allQueued && counts.stored === summary.queued ? 0 : 1;
}

function describeRejection(r: Rejection): string {
  return [r.reason, r.path, r.message].filter((part) => part !== undefined && part !== '').join(' ');
}

function describeVerdicts(queued: number, c: VerdictCounts): string {
  const unknown = c.unknown > 0 ? `, ${fmt(c.unknown)} unknown` : '';
  return `${fmt(queued)} queued: ${fmt(c.stored)} stored, ${fmt(c.rejected)} rejected${unknown}`;
}

async function token(env: Env): Promise<number> {
  const tokens = new TokenProvider({ ...env, fetch, timeoutMs: 10_000 });
  process.stdout.write(`${await tokens.get()}\n`);
  return 0;
}

async function tailCommand(args: string[], env: Env): Promise<number> {
  const { values } = parseArgs({
    args,
    options: {
      category: { type: 'string' },
      name: { type: 'string' },
      'session-id': { type: 'string' },
      'client-id': { type: 'string' },
      from: { type: 'string' },
      'interval-ms': { type: 'string' },
      'lookback-ms': { type: 'string' },
    },
  });
  const filters: Record<string, string> = {};
  if (values.category) filters.category = values.category;
  if (values.name) filters.name = values.name;
  if (values['session-id']) filters.session_id = values['session-id'];
  if (values['client-id']) filters.client_id = values['client-id'];
  const lookbackMs = positiveInt(values['lookback-ms'], 'lookback-ms', 10_000);
  const controller = new AbortController();
  process.once('SIGINT', () => controller.abort());
  process.once('SIGTERM', () => controller.abort());
  await tail({
    baseUrl: env.baseUrl,
    tokens: new TokenProvider({ ...env, fetch, timeoutMs: 10_000 }),
    filters,
    from: values.from ?? new Date(Date.now() - lookbackMs).toISOString(),
    intervalMs: Math.max(100, positiveInt(values['interval-ms'], 'interval-ms', 1000)),
    lookbackMs,
    timeoutMs: 10_000,
    signal: controller.signal,
    onEvent: (event) => process.stdout.write(`${JSON.stringify(event)}\n`),
    onRetry: (message) => process.stderr.write(`retrying: ${message}\n`),
  });
  return 0;
}

export async function main(argv: string[], env: NodeJS.ProcessEnv): Promise<number> {
  const [command, ...args] = argv;
  try {
    switch (command) {
      case 'send':
        return await send(args, credentials(env));
      case 'token':
        return await token(credentials(env));
      case 'tail':
        return await tailCommand(args, credentials(env));
      case 'help':
      case '--help':
      case '-h':
        process.stdout.write(`${USAGE}\n`);
        return 0;
      default:
        throw new UsageError(command ? `unknown command ${command}` : 'a command is required');
    }
  } catch (err) {
    if (err instanceof UsageError || (err instanceof TypeError && 'code' in err)) {
      process.stderr.write(`eye: ${err.message}\n\n${USAGE}\n`);
      return 2;
    }
    process.stderr.write(
      `eye: ${err instanceof EyeError || err instanceof Error ? err.message : String(err)}\n`,
    );
    return 1;
  }
}

if (require.main === module) {
  void main(process.argv.slice(2), process.env).then((code) => {
    process.exitCode = code;
  });
}
