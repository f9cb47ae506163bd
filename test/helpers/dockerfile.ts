// Replays a Dockerfile without a Docker engine (none on our machines or in CI): the build context is
// what a clean clone holds minus what .dockerignore leaves out (Docker's own rules, through
// @balena/dockerignore); each stage gets a folder standing for its root file system; every COPY
// copies exactly what it names, every RUN runs there with the stage's ENV. The base images are not
// replayed: their Node and npm are this machine's.
import { execFileSync, spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, posix } from 'node:path';
import ignore from '@balena/dockerignore';

export interface Instruction {
  line: number;
  keyword: string;
  args: string;
}

export interface Stage {
  name: string;
  base: string;
  instructions: Instruction[];
}

/** Keywords the replay understands; any other one fails the replay instead of being skipped. */
const KNOWN = new Set([
  'FROM',
  'WORKDIR',
  'COPY',
  'RUN',
  'ENV',
  'ARG',
  'USER',
  'EXPOSE',
  'HEALTHCHECK',
  'CMD',
  'LABEL',
]);

/** Instructions grouped by stage; comments dropped and `\` continuations joined as Docker does. */
export function parseDockerfile(text: string): Stage[] {
  const stages: Stage[] = [];
  let pending = '';
  let startLine = 0;
  text.split('\n').forEach((raw, i) => {
    const trimmed = raw.trim();
    if (trimmed.startsWith('#') || (!pending && !trimmed)) return;
    if (!pending) startLine = i + 1;
    if (trimmed.endsWith('\\')) {
      pending += `${trimmed.slice(0, -1)} `;
      return;
    }
    const full = (pending + trimmed).trim();
    pending = '';
    const m = /^(\S+)\s*(.*)$/s.exec(full);
    if (!m) return;
    const keyword = m[1].toUpperCase();
    if (!KNOWN.has(keyword)) throw new Error(`Dockerfile line ${startLine}: ${keyword} is not replayed`);
    if (keyword === 'FROM') {
      const f = /^(?:--\S+\s+)*(\S+)(?:\s+AS\s+(\S+))?$/i.exec(m[2]);
      if (!f) throw new Error(`Dockerfile line ${startLine}: FROM ${m[2]}`);
      stages.push({ name: f[2] ?? String(stages.length), base: f[1], instructions: [] });
      return;
    }
    if (!stages.length) throw new Error(`Dockerfile line ${startLine}: ${keyword} before FROM`);
    stages[stages.length - 1].instructions.push({ line: startLine, keyword, args: m[2] });
  });
  return stages;
}

/** Exec form (a JSON array) or shell form (run by /bin/sh -c), as Docker reads CMD and RUN. */
export function commandOf(args: string): string[] {
  const text = args.trim();
  if (text.startsWith('[')) return JSON.parse(text) as string[];
  return ['/bin/sh', '-c', text];
}

/** `ENV a=1 b="two words"` or the legacy `ENV a 1`. */
export function parseEnv(args: string): Record<string, string> {
  const out: Record<string, string> = {};
  if (!/^\S+=/.test(args.trim())) {
    const [key, ...rest] = args.trim().split(/\s+/);
    out[key] = rest.join(' ');
    return out;
  }
  for (const m of args.matchAll(/(\S+?)=("(?:[^"\\]|\\.)*"|'[^']*'|\S*)/g)) {
    const v = m[2];
    out[m[1]] = v.startsWith('"') ? (JSON.parse(v) as string) : v.replace(/^'|'$/g, '');
  }
  return out;
}

/** Files of the build context: a clean clone's files (tracked or new, not git-ignored) that .dockerignore keeps. */
export function buildContext(repo: string): string[] {
  const files = execFileSync('git', ['ls-files', '--cached', '--others', '--exclude-standard', '-z'], {
    cwd: repo,
    encoding: 'utf8',
  })
    .split('\0')
    .filter((f) => f && existsSync(join(repo, f)));
  const rules = existsSync(join(repo, '.dockerignore'))
    ? readFileSync(join(repo, '.dockerignore'), 'utf8')
    : '';
  return ignore().add(rules).filter(files);
}

function globToRegExp(glob: string): RegExp {
  const escaped = glob
    .replace(/[.+^${}()|[\]\\]/g, '\\$&')
    .replace(/\*/g, '[^/]*')
    .replace(/\?/g, '[^/]');
  return new RegExp(`^${escaped}$`);
}

/** Splits `[--flag=…] src… dest` (shell or JSON form). */
function copyArgs(args: string): { flags: Record<string, string>; sources: string[]; dest: string } {
  const flags: Record<string, string> = {};
  let rest = args.trim();
  for (let m = /^--([\w-]+)=(\S+)\s+/.exec(rest); m; m = /^--([\w-]+)=(\S+)\s+/.exec(rest)) {
    flags[m[1]] = m[2];
    rest = rest.slice(m[0].length);
  }
  const parts = rest.startsWith('[') ? (JSON.parse(rest) as string[]) : rest.split(/\s+/);
  return { flags, sources: parts.slice(0, -1), dest: parts[parts.length - 1] };
}

export interface Replay {
  /** Folder standing for each stage's root file system. */
  roots: Map<string, string>;
  last: Stage;
  /** The last stage's WORKDIR (a folder under its root), ENV and CMD. */
  workdir: string;
  env: Record<string, string>;
  cmd: string[];
  /** The last stage's HEALTHCHECK command, if any. */
  healthcheck: string[] | null;
  log: string[];
}

/**
 * Runs every stage of `dockerfile` in `out` (an empty folder). `baseEnv` is what the base image's
 * environment would give a RUN (PATH and HOME here, so npm finds its cache).
 */
export function replayDockerfile(
  repo: string,
  dockerfile: string,
  out: string,
  baseEnv: NodeJS.ProcessEnv,
): Replay {
  const stages = parseDockerfile(readFileSync(join(repo, dockerfile), 'utf8'));
  const context = buildContext(repo);
  const roots = new Map<string, string>();
  const states = new Map<string, { workdir: string; env: Record<string, string> }>();
  const log: string[] = [];
  let result: Omit<Replay, 'roots' | 'log'> | null = null;
  stages.forEach((stage, index) => {
    const root = join(out, `stage-${index}`);
    const inherited = roots.get(stage.base);
    if (inherited) cpSync(inherited, root, { recursive: true, verbatimSymlinks: true });
    mkdirSync(root, { recursive: true });
    roots.set(stage.name, root);
    // A stage FROM an earlier one starts from its files, WORKDIR and ENV.
    let workdir = states.get(stage.base)?.workdir ?? '/';
    const env: Record<string, string> = { ...states.get(stage.base)?.env };
    const buildArgs: Record<string, string> = {};
    let cmd: string[] = [];
    let healthcheck: string[] | null = null;
    const inRoot = (p: string): string => join(root, posix.resolve(workdir, p));
    for (const ins of stage.instructions) {
      const where = `Dockerfile line ${ins.line} (${ins.keyword} ${ins.args.slice(0, 80)})`;
      switch (ins.keyword) {
        case 'WORKDIR':
          workdir = posix.resolve(workdir, ins.args.trim());
          mkdirSync(inRoot('.'), { recursive: true });
          break;
        case 'ENV':
          Object.assign(env, parseEnv(ins.args));
          break;
        case 'COPY': {
          const { flags, sources, dest } = copyArgs(ins.args);
          const manyOrDir = sources.length > 1 || dest.endsWith('/');
          const target = inRoot(dest);
          const from = flags.from;
          for (const src of sources) {
            if (from !== undefined) {
              const fromRoot = roots.get(from);
              if (!fromRoot) throw new Error(`${where}: no stage ${from}`);
              const path = join(fromRoot, posix.resolve('/', src));
              if (!existsSync(path)) throw new Error(`${where}: ${src} does not exist in stage ${from}`);
              const isDir = statSync(path).isDirectory();
              const to = !isDir && manyOrDir ? join(target, posix.basename(src)) : target;
              cpSync(path, to, { recursive: true, verbatimSymlinks: true });
              continue;
            }
            const clean = posix
              .normalize(src)
              .replace(/^\.?\/?/, '')
              .replace(/\/$/, '');
            const re = globToRegExp(clean);
            const files = context.filter(
              (f) => clean === '' || clean === '.' || re.test(f) || f.startsWith(`${clean}/`),
            );
            if (!files.length)
              throw new Error(`${where}: ${src} is not in the build context (.dockerignore?)`);
            for (const f of files) {
              // A directory source copies its content; a file goes into dest/ or becomes dest.
              const rel = f.startsWith(`${clean}/`) ? f.slice(clean.length + 1) : posix.basename(f);
              const to = f.startsWith(`${clean}/`) || manyOrDir || clean === '.' ? join(target, rel) : target;
              mkdirSync(dirname(to), { recursive: true });
              cpSync(join(repo, f), to);
            }
          }
          break;
        }
        case 'RUN': {
          const [bin, ...args] = commandOf(ins.args);
          log.push(`RUN ${ins.args}`);
          const run = spawnSync(bin, args, {
            cwd: inRoot('.'),
            env: { ...baseEnv, ...buildArgs, ...env },
            encoding: 'utf8',
            maxBuffer: 64 * 1024 * 1024,
          });
          log.push(run.stdout, run.stderr);
          if (run.status !== 0) {
            throw new Error(
              `${where} exited ${run.status}:\n${run.stdout.slice(-3000)}\n${run.stderr.slice(-3000)}`,
            );
          }
          break;
        }
        case 'CMD':
          cmd = commandOf(ins.args);
          break;
        case 'HEALTHCHECK': {
          const m = /\bCMD\s+(.*)$/s.exec(ins.args);
          healthcheck = m ? commandOf(m[1]) : null;
          break;
        }
        case 'ARG':
          if (ins.args.includes('=')) Object.assign(buildArgs, parseEnv(ins.args));
          break;
        // Nothing to replay: the process runs as this machine's user, with no published ports.
        case 'USER':
        case 'EXPOSE':
        case 'LABEL':
          break;
      }
    }
    states.set(stage.name, { workdir, env });
    result = { last: stage, workdir: inRoot('.'), env, cmd, healthcheck };
  });
  if (!result) throw new Error(`${dockerfile} has no stage`);
  return { ...(result as Omit<Replay, 'roots' | 'log'>), roots, log };
}
