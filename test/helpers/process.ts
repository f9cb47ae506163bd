import { type ChildProcess, spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { testEnv } from './env';
import { waitFor } from './app';

/** A real service process (`node dist/main.js`, built by `npm test`'s pretest). */
export interface ServiceProcess {
  child: ChildProcess;
  url: string;
  output: () => string;
  /** SIGTERM and wait for exit; resolves with the exit code. */
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => resolve(port));
    });
    srv.on('error', reject);
  });
}

export async function spawnService(env: Record<string, string | undefined> = {}): Promise<ServiceProcess> {
  const port = await freePort();
  const fullEnv = { ...process.env, ...testEnv({ PORT: String(port), LOG_LEVEL: 'log', ...env }) };
  for (const [k, v] of Object.entries(fullEnv)) if (v === undefined) delete fullEnv[k];
  const child = spawn(process.execPath, [join(__dirname, '..', '..', 'dist', 'main.js')], {
    env: fullEnv,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout?.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const url = `http://127.0.0.1:${port}`;
  const role = fullEnv.ROLE ?? 'all';
  const started = waitFor(
    async () => {
      if (child.exitCode !== null) throw new Error(`service exited early (${child.exitCode}):\n${out}`);
      if (role === 'worker') return out.includes('worker started');
      return fetch(`${url}/health`).then(
        (r) => r.ok,
        () => false,
      );
    },
    60_000,
    'the service to start',
  );
  // A service that did not come up in time is killed: left running, it would keep taking jobs from
  // the test queue (and CPU) behind every later test.
  await started.catch((err: unknown) => {
    child.kill('SIGKILL');
    throw err;
  });
  return {
    child,
    url,
    output: () => out,
    stop: async (signal: NodeJS.Signals = 'SIGTERM') => {
      if (child.exitCode === null) child.kill(signal);
      return exited;
    },
  };
}
