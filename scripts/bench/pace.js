'use strict';
/**
 * Open-loop pacing shared by the benchmark's fixed-rate generators: calls `fire(scheduledTime)` `rate`
 * times per second for `seconds`, evenly spaced from now, whatever happens to the requests it starts;
 * a late timer fires every request that is due at once, with its own scheduled time (latencies are
 * measured from it). Calls `done()` after the last one.
 */

function pace(rate, seconds, fire, done) {
  const interval = 1000 / rate;
  const end = performance.now() + seconds * 1000;
  let next = performance.now();
  const tick = () => {
    const now = performance.now();
    while (next <= now && next < end) {
      fire(next);
      next += interval;
    }
    if (next < end) setTimeout(tick, Math.min(5, Math.max(0, next - performance.now())));
    else done();
  };
  tick();
}

module.exports = { pace };
