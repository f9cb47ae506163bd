'use strict';
/**
 * Benchmark probe, loaded into the service with
 * `BENCH_NODE_FLAGS="--require ./bench/probes/request-times.js" npm run bench`:
 * times every POST inside the service, from Node's 'request' event (headers parsed) to the
 * response's 'finish', and writes `bench/results/probe-request-times.csv` ("epoch ms,duration ms")
 * when the service exits. Compared with the generator's trace (BENCH_TRACE=1) it separates the
 * service's share of an ack latency from the load generator's and the kernel's.
 */
const fs = require('node:fs');
const http = require('node:http');
const path = require('node:path');

const MAX = 2_000_000;
const starts = new Float64Array(MAX);
const durations = new Float64Array(MAX);
let n = 0;
const emit = http.Server.prototype.emit;
http.Server.prototype.emit = function (event, req, res) {
  if (event === 'request' && req.method === 'POST') {
    const start = performance.now();
    res.on('finish', () => {
      if (n < MAX) {
        starts[n] = start;
        durations[n++] = performance.now() - start;
      }
    });
  }
  return emit.apply(this, arguments);
};
process.on('exit', () => {
  const lines = ['epoch_ms,duration_ms'];
  for (let i = 0; i < n; i++)
    lines.push(`${(performance.timeOrigin + starts[i]).toFixed(1)},${durations[i].toFixed(3)}`);
  fs.writeFileSync(
    path.join(process.cwd(), 'bench/results', 'probe-request-times.csv'),
    lines.join('\n') + '\n',
  );
});
