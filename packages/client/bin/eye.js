#!/usr/bin/env -S node --max-semi-space-size=4
'use strict';
// A committed entry point: npm links package bins at install time, before this package's
// `prepare` script (run by `npm ci` / `npm install` after the dependencies) has built dist/, and
// skips a bin whose file does not exist yet.
// The flag: `eye send` allocates fast while it keeps a queue of live events, which makes V8 grow
// its young generation to the 3 × 16 MB maximum, most of the CLI's memory; 4 MB semi-spaces keep
// the resident size well under 150 MB for the same CPU.
const { main } = require('../dist/cli.js');
main(process.argv.slice(2), process.env).then((code) => {
  process.exitCode = code;
});
