/**
 * Benchmark probe, loaded into the service with
 * `BENCH_NODE_FLAGS="--require ./bench/probes/request-times.ts" npm run bench`:
 * times every POST inside the service, from Node's 'request' event (headers parsed) to the
 * response's 'finish', and writes `bench/results/probe-request-times.csv` ("epoch ms,duration ms")
 * when the service exits. Compared with the generator's trace (BENCH_TRACE=1) it separates the
 * service's share of an ack latency from the load generator's and the kernel's.
 */
import { writeFileSync } from 'node:fs';
import { type IncomingMessage, Server, type ServerResponse } from 'node:http';
import { join } from 'node:path';

const MAX = 2_000_000;
const starts = new Float64Array(MAX);
const durations = new Float64Array(MAX);
let n = 0;
const emit = Server.prototype.emit;
Server.prototype.emit = function (this: Server, event: string | symbol, ...args: unknown[]): boolean {
  const [req, res] = args as [IncomingMessage, ServerResponse];
  if (event === 'request' && req.method === 'POST') {
    const start = performance.now();
    res.on('finish', () => {
      if (n < MAX) {
        starts[n] = start;
        durations[n++] = performance.now() - start;
      }
    });
  }
  return emit.apply(this, [event, ...args] as Parameters<typeof emit>);
};
process.on('exit', () => {
  const lines = ['epoch_ms,duration_ms'];
  for (let i = 0; i < n; i++)
    lines.push(`${(performance.timeOrigin + starts[i]).toFixed(1)},${durations[i].toFixed(3)}`);
  writeFileSync(join(process.cwd(), 'bench/results', 'probe-request-times.csv'), lines.join('\n') + '\n');
});
