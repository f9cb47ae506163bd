// `npx eye` works right after `npm ci` (SPEC, Reusable client): npm ci runs each workspace's
// `prepare` lifecycle script after installing, and @the-eye/client's builds its dist/. This spec
// replays that from a checkout without dist/: the same lifecycle step, then the bin as npx runs it.
import { execFile } from 'node:child_process';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);
const ROOT = join(__dirname, '..');
const DIST = join(ROOT, 'packages', 'client', 'dist');

describe('@the-eye/client after npm ci (e2e)', () => {
  it('npm ci builds the client: the prepare step rebuilds dist/ and `npx eye --help` runs', async () => {
    rmSync(DIST, { recursive: true, force: true });
    const before = await run('npx', ['--no-install', 'eye', '--help'], { cwd: ROOT }).then(
      () => 'ran',
      (err: { stderr: string }) => err.stderr,
    );
    expect(before).toMatch(/Cannot find module '..\/dist\/cli.js'/);

    // What npm ci runs for the workspace once its dependencies are installed.
    await run('npm', ['run', 'prepare', '--workspace', '@the-eye/client'], { cwd: ROOT, timeout: 120_000 });

    const help = await run('npx', ['--no-install', 'eye', '--help'], { cwd: ROOT });
    expect(help.stdout).toMatch(/^Usage:\n {2}eye send/);
    // The published entry points exist, typed, and uuid is bundled (no runtime dependency).
    for (const file of ['index.js', 'index.d.ts', 'cli.js']) expect(existsSync(join(DIST, file))).toBe(true);
    expect(readFileSync(join(DIST, 'index.js'), 'utf8')).not.toMatch(/require\(["']uuid["']\)/);
    const pkg = JSON.parse(readFileSync(join(ROOT, 'packages', 'client', 'package.json'), 'utf8')) as {
      dependencies?: Record<string, string>;
    };
    expect(pkg.dependencies ?? {}).toEqual({});
  });

  it('npm ci prints no EBADENGINE: every locked package runs on the Node the README names (>= 20.19)', async () => {
    // A dry run reads the lockfile and checks engines like the real one, without touching node_modules.
    const { stdout, stderr } = await run(
      'npm',
      ['ci', '--dry-run', '--ignore-scripts', '--no-audit', '--no-fund'],
      {
        cwd: ROOT,
        timeout: 120_000,
      },
    );
    expect(`${stdout}${stderr}`).not.toMatch(/EBADENGINE/);
  });
});
