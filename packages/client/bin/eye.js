#!/usr/bin/env node
'use strict';
// A committed entry point: npm links package bins at install time, before `npm run build` has
// produced dist/, and skips a bin whose file does not exist yet.
const { main } = require('../dist/cli.js');
main(process.argv.slice(2), process.env).then((code) => {
  process.exitCode = code;
});
