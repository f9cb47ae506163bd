// Summary of a V8 CPU profile of the service (BENCH_PROFILE=1, or bench.ts --profile-summary FILE):
// self time by function and by package, and who calls the hottest functions.
import { readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { BUILD_DIR, round } from './config';
import { ROOT } from './lib/service';

interface CallFrame {
  functionName: string;
  url: string;
  lineNumber: number;
}
interface CpuProfile {
  nodes: { id: number; callFrame: CallFrame; children?: number[] }[];
  samples: number[];
  timeDeltas: number[];
  startTime: number;
  endTime: number;
}
interface ProfileRow {
  self_ms: number | null;
  pct: number | null;
  fn: string;
}
export interface ProfileSummary {
  file: string;
  window_s: number | null;
  busy_ms: number | null;
  idle_ms: number | null;
  top_functions: ProfileRow[];
  top_packages: ProfileRow[];
  callers: { fn: string; chains: { samples: number; chain: string }[] }[];
}

function shortUrl(url: string): string {
  if (!url) return '';
  const u = url.replace(/^file:\/\//, '');
  const nm = u.lastIndexOf('/node_modules/');
  if (nm >= 0) return u.slice(nm + 14);
  if (u.startsWith(ROOT + '/')) return u.slice(ROOT.length + 1);
  return u;
}
function packageOf(url: string): string {
  if (!url) return '(vm)';
  if (url.startsWith('node:')) return 'node: core';
  const u = url.replace(/^file:\/\//, '');
  const nm = u.lastIndexOf('/node_modules/');
  if (nm >= 0) {
    const rest = u.slice(nm + 14).split('/');
    return rest[0].startsWith('@') ? `${rest[0]}/${rest[1]}` : rest[0];
  }
  if (u.startsWith(join(ROOT, BUILD_DIR) + '/')) {
    const rel = u.slice(join(ROOT, BUILD_DIR).length + 1).split('/');
    return `app: ${rel.length > 1 ? rel[0] : rel[0]}`;
  }
  return u;
}
/** Aggregates self time by function+url (and by package), optionally within [fromUs, toUs]. */
export function summarizeProfile(
  file: string,
  { window, top = 25 }: { window?: [number, number]; top?: number } = {},
): ProfileSummary {
  const prof = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
  const byId = new Map(prof.nodes.map((n) => [n.id, n]));
  const self = new Map<string, number>();
  const pkgs = new Map<string, number>();
  let t = prof.startTime;
  let total = 0;
  let idle = 0;
  for (let i = 0; i < prof.samples.length; i++) {
    t += prof.timeDeltas[i];
    const dt = i + 1 < prof.timeDeltas.length ? prof.timeDeltas[i + 1] : 0;
    if (window && (t < window[0] || t > window[1])) continue;
    const n = byId.get(prof.samples[i])!;
    const cf = n.callFrame;
    if (cf.functionName === '(idle)') {
      idle += dt;
      continue;
    }
    total += dt;
    const key = `${cf.functionName || '(anonymous)'}  ${shortUrl(cf.url)}${cf.url ? `:${cf.lineNumber + 1}` : ''}`;
    self.set(key, (self.get(key) || 0) + dt);
    const pk = cf.url ? packageOf(cf.url) : cf.functionName;
    pkgs.set(pk, (pkgs.get(pk) || 0) + dt);
  }
  // Who calls the top self-time functions (a self-time hot spot inside node: core says little alone).
  const parent = new Map<number, number>();
  for (const n of prof.nodes) for (const c of n.children || []) parent.set(c, n.id);
  const keyOf = (cf: CallFrame): string =>
    `${cf.functionName || '(anonymous)'}  ${shortUrl(cf.url)}${cf.url ? `:${cf.lineNumber + 1}` : ''}`;
  const hot = [...self.entries()]
    .sort((a, b) => b[1] - a[1])
    .slice(0, 5)
    .map(([k]) => k)
    .filter((k) => !k.startsWith('('));
  const chains = new Map(hot.map((k) => [k, new Map<string, number>()]));
  {
    let t2 = prof.startTime;
    for (let i = 0; i < prof.samples.length; i++) {
      t2 += prof.timeDeltas[i];
      if (window && (t2 < window[0] || t2 > window[1])) continue;
      const n = byId.get(prof.samples[i])!;
      const m = chains.get(keyOf(n.callFrame));
      if (!m) continue;
      const chain: string[] = [];
      for (let id = parent.get(n.id), d = 0; id && d < 6; id = parent.get(id), d++) {
        const cf = byId.get(id)!.callFrame;
        chain.push(
          `${cf.functionName || '(anonymous)'} ${shortUrl(cf.url).split('/').slice(-2).join('/')}:${cf.lineNumber + 1}`,
        );
      }
      const ck = chain.join(' < ');
      m.set(ck, (m.get(ck) || 0) + 1);
    }
  }
  const callers = [...chains.entries()].map(([fn, m]) => ({
    fn,
    chains: [...m.entries()]
      .sort((a, b) => b[1] - a[1])
      .slice(0, 2)
      .map(([c, n]) => ({ samples: n, chain: c })),
  }));
  const fmt = (m: Map<string, number>): ProfileRow[] =>
    [...m.entries()]
      .sort((a, b) => b[1] - a[1])
      .slice(0, top)
      .map(([k, v]) => ({ self_ms: round(v / 1000, 1), pct: round((100 * v) / total, 1), fn: k }));
  return {
    file: relative(ROOT, file),
    window_s: window
      ? round((window[1] - window[0]) / 1e6, 1)
      : round((prof.endTime - prof.startTime) / 1e6, 1),
    busy_ms: round(total / 1000),
    idle_ms: round(idle / 1000),
    top_functions: fmt(self),
    top_packages: fmt(pkgs).slice(0, 15),
    callers,
  };
}
export function profileMarkdown(s: ProfileSummary): string {
  const lines = [
    `CPU profile ${s.file}: ${s.window_s}s window, busy ${s.busy_ms} ms, idle ${s.idle_ms} ms`,
    '',
    '| self ms | % busy | function  file:line |',
    '|---:|---:|---|',
    ...s.top_functions.map((r) => `| ${r.self_ms} | ${r.pct} | \`${r.fn.replace(/\|/g, '\\|')}\` |`),
    '',
    '| self ms | % busy | package / area |',
    '|---:|---:|---|',
    ...s.top_packages.map((r) => `| ${r.self_ms} | ${r.pct} | ${r.fn} |`),
    '',
    'Callers of the top functions (innermost first):',
    ...(s.callers || []).flatMap((c) => [
      `- \`${c.fn}\``,
      ...c.chains.map((x) => `  - ${x.samples} samples: ${x.chain}`),
    ]),
  ];
  return lines.join('\n');
}
