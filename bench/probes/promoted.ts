/**
 * Benchmark probe, loaded into the service with
 * `BENCH_NODE_FLAGS="--require ./bench/probes/promoted.ts" npm run bench`: a sampling
 * heap profile (inspector HeapProfiler) that keeps the samples of objects that survived the young
 * generation (promoted: what fills the old generation and so sets the pace of mark-compacts),
 * including those a mark-compact collected later (objects allocated straight into the old
 * generation, pretenured or large, count too). At exit it writes the raw profile to
 * `bench/results/probe-promoted.json` and the top allocation sites and packages by promoted bytes
 * to `bench/results/probe-promoted.txt`.
 */
import { writeFileSync } from 'node:fs';
import { Session } from 'node:inspector';
import { join } from 'node:path';

interface SamplingNode {
  callFrame: { functionName: string; url: string; lineNumber: number };
  selfSize: number;
  children: SamplingNode[];
}

const session = new Session();
session.connect();
session.post('HeapProfiler.enable');
// PROBE_DELAY_S (default 0): start sampling that many seconds after the service starts, e.g. past
// the bench's warm-up (BENCH_SERVICE_ENV=PROBE_DELAY_S=15).
const start = () =>
  session.post('HeapProfiler.startSampling', {
    samplingInterval: 16 * 1024,
    includeObjectsCollectedByMajorGC: true,
    includeObjectsCollectedByMinorGC: false,
  });
const delayS = Number(process.env.PROBE_DELAY_S || 0);
const startedAt = Date.now() + delayS * 1000;
if (delayS > 0) setTimeout(start, delayS * 1000).unref();
else start();

function packageOf(url: string): string {
  if (!url) return '(native/builtin)';
  const m = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (m) return m[1];
  if (url.startsWith('node:')) return 'node core';
  if (/\/dist[^/]*\//.test(url)) return 'the-eye';
  return url;
}

process.on('exit', () => {
  session.post('HeapProfiler.stopSampling', (err, result) => {
    if (err) return;
    const out = join(process.cwd(), 'bench/results');
    writeFileSync(join(out, 'probe-promoted.json'), JSON.stringify(result.profile));
    const bySite = new Map<string, number>();
    const byPackage = new Map<string, number>();
    let total = 0;
    const walk = (node: SamplingNode): void => {
      const f = node.callFrame;
      const self = node.selfSize;
      if (self) {
        total += self;
        const site = `${f.functionName || '(anonymous)'} ${f.url.replace(/.*node_modules\//, '')}:${f.lineNumber + 1}`;
        bySite.set(site, (bySite.get(site) ?? 0) + self);
        const pkg = packageOf(f.url);
        byPackage.set(pkg, (byPackage.get(pkg) ?? 0) + self);
      }
      for (const c of node.children) walk(c);
    };
    walk(result.profile.head);
    const top = (m: Map<string, number>, n: number): string =>
      [...m.entries()]
        .sort((a, b) => b[1] - a[1])
        .slice(0, n)
        .map(
          ([k, v]) =>
            `${((100 * v) / total).toFixed(1).padStart(5)}% ${(v / 1e6).toFixed(1).padStart(7)} MB  ${k}`,
        )
        .join('\n');
    writeFileSync(
      join(out, 'probe-promoted.txt'),
      `promoted (sampled) ${(total / 1e6).toFixed(1)} MB in ${((Date.now() - startedAt) / 1000).toFixed(0)} s\n\nby package\n${top(byPackage, 15)}\n\nby site\n${top(bySite, 40)}\n`,
    );
  });
});
