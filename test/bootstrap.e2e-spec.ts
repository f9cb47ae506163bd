import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Client } from 'pg';
import { loadConfig, ConfigError } from '../src/config/config';
import { http, startApp } from './helpers/app';
import { TEST_DATABASE_URL } from './helpers/env';

describe('bootstrap (e2e)', () => {
  it('without ADMIN_CLIENT_*, development generates an admin once and prints its secret once', async () => {
    const db = new Client({ connectionString: TEST_DATABASE_URL });
    await db.connect();
    await db.query("DELETE FROM clients WHERE id = 'admin'");
    const printed: string[] = [];
    const spy = jest.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
      printed.push(String(chunk));
      return true;
    });
    let secret: string | undefined;
    try {
      const first = await startApp({
        ADMIN_CLIENT_ID: undefined,
        ADMIN_CLIENT_SECRET: undefined,
        NODE_ENV: 'development',
        LOG_LEVEL: 'warn',
      });
      await first.close();
      const line = printed.find((l) => l.includes('created admin client'));
      secret = /with secret (\S+)/.exec(line ?? '')?.[1];
      printed.length = 0;
      const second = await startApp({
        ADMIN_CLIENT_ID: undefined,
        ADMIN_CLIENT_SECRET: undefined,
        NODE_ENV: 'development',
        LOG_LEVEL: 'warn',
      });
      try {
        expect(printed.some((l) => l.includes('created admin client'))).toBe(false);
        const res = await http(`${second.url}/v1/auth/token`, {
          json: { client_id: 'admin', client_secret: secret },
        });
        expect(res.status).toBe(200);
        expect(res.body.scope).toBe('admin');
      } finally {
        await second.close();
      }
    } finally {
      spy.mockRestore();
      await db.end();
    }
    expect(secret).toEqual(expect.any(String));
  });

  it('production refuses to start without JWT_SECRET and ADMIN_CLIENT_*', () => {
    expect(() => loadConfig({ NODE_ENV: 'production' })).toThrow(ConfigError);
    try {
      loadConfig({ NODE_ENV: 'production' });
    } catch (err) {
      expect((err as ConfigError).problems.join('\n')).toMatch(/JWT_SECRET.*required[\s\S]*ADMIN_CLIENT_ID/);
    }
  });

  it('the Docker image runs node with the flags of `npm start` (heap cap, GC threads), and node takes them', () => {
    const root = join(__dirname, '..');
    const start = (
      JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { scripts: { start: string } }
    ).scripts.start;
    const startFlags = /^node\s+(.*?)\s*dist\/main\.js$/.exec(start)?.[1].split(/\s+/);
    const cmd = /^CMD\s+(\[[\s\S]*?\])\s*$/m.exec(
      readFileSync(join(root, 'Dockerfile'), 'utf8').replace(/\\\n/g, ' '),
    );
    const dockerArgs = JSON.parse(cmd?.[1] ?? '[]') as string[];
    expect(dockerArgs[0]).toBe('node');
    expect(dockerArgs.at(-1)).toBe('dist/main.js');
    expect(startFlags).toContain('--max-old-space-size=256');
    expect(dockerArgs.slice(1, -1)).toEqual(startFlags);
    expect(
      execFileSync(process.execPath, [...(startFlags ?? []), '-e', 'process.stdout.write("ok")']).toString(),
    ).toBe('ok');
  });
});
