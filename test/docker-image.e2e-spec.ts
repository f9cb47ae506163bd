import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { waitFor } from './helpers/app';
import { type Replay, parseDockerfile, replayDockerfile } from './helpers/dockerfile';
import { testEnv } from './helpers/env';
import { freePort } from './helpers/process';

const REPO = join(__dirname, '..');

/**
 * `docker compose up --build` from a clean clone (SPEC, Operations), without a Docker engine: the
 * real Dockerfile is replayed from the context .dockerignore leaves (test/helpers/dockerfile.ts),
 * then the last stage's CMD starts from its own folder with a test database and answers /health.
 */
describe('Docker image (Dockerfile replayed without an engine)', () => {
  let out: string;
  let replay: Replay;

  beforeAll(() => {
    out = mkdtempSync(join(tmpdir(), 'the-eye-image-'));
    // What a RUN finds in node:20-bookworm-slim: node and npm on PATH, a HOME for npm's cache.
    replay = replayDockerfile(REPO, 'Dockerfile', out, { PATH: process.env.PATH, HOME: process.env.HOME });
  }, 600_000);

  afterAll(() => {
    if (out) rmSync(out, { recursive: true, force: true });
  });

  it('parses the Dockerfile the compose file builds: a build stage and a runtime stage with a CMD', () => {
    const stages = parseDockerfile(readFileSync(join(REPO, 'Dockerfile'), 'utf8'));
    expect(stages.map((s) => s.name)).toEqual(['build', 'runtime']);
    expect(readFileSync(join(REPO, 'docker-compose.yml'), 'utf8')).toMatch(/build: \.\n/);
    expect(replay.last.name).toBe('runtime');
    expect(replay.cmd[0]).toBe('node');
  });

  it('the runtime stage starts with its CMD and ENV, answers /health 200 and its HEALTHCHECK, and drains on SIGTERM', async () => {
    const port = await freePort();
    const env = {
      PATH: process.env.PATH,
      ...replay.env,
      ...testEnv({ NODE_ENV: replay.env.NODE_ENV, PORT: String(port), LOG_LEVEL: 'log' }),
    };
    const [bin, ...args] = replay.cmd;
    const child = spawn(bin, args, { cwd: replay.workdir, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr.on('data', (d: Buffer) => (output += d.toString()));
    const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
    try {
      await waitFor(
        async () => {
          if (child.exitCode !== null)
            throw new Error(`the image's CMD exited ${child.exitCode}:\n${output}`);
          return fetch(`http://127.0.0.1:${port}/health`).then(
            (r) => r.status === 200,
            () => false,
          );
        },
        60_000,
        "the image's /health",
      );
      const page = await fetch(`http://127.0.0.1:${port}/dashboard`);
      expect(page.status).toBe(200);
      const asset = /\/dashboard\/(assets\/main-\w+\.js)/.exec(await page.text())?.[1];
      expect((await fetch(`http://127.0.0.1:${port}/dashboard/${asset}`)).status).toBe(200);
      expect(replay.healthcheck).not.toBeNull();
      const [hBin, ...hArgs] = replay.healthcheck ?? [];
      const check = spawnSync(hBin, hArgs, { cwd: replay.workdir, env, encoding: 'utf8' });
      expect(check.status).toBe(0);
    } finally {
      child.kill('SIGTERM');
    }
    expect(await exited).toBe(0);
  }, 90_000);
});
