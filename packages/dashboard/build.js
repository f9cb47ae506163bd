#!/usr/bin/env node
// Bundles the dashboard (src/) into dist/: one JS and one CSS file with content-hashed names
// (the server serves them as immutable) and index.html pointing at them (served no-cache).
// The server's `npm run build` runs it, so `npm ci && npm start` needs no other step.
//
//   npm run build -w @the-eye/dashboard
'use strict';
const { mkdirSync, readFileSync, rmSync, writeFileSync } = require('node:fs');
const { basename, join, relative } = require('node:path');
const esbuild = require('esbuild');

const src = join(__dirname, 'src');
const out = join(__dirname, 'dist');

async function main() {
  rmSync(out, { recursive: true, force: true });
  mkdirSync(join(out, 'assets'), { recursive: true });
  const result = await esbuild.build({
    entryPoints: [join(src, 'main.ts')],
    bundle: true,
    minify: true,
    sourcemap: 'linked',
    format: 'iife',
    target: ['es2020'],
    outdir: join(out, 'assets'),
    entryNames: '[name]-[hash]',
    metafile: true,
    logLevel: 'warning',
    legalComments: 'linked',
    absWorkingDir: __dirname,
  });
  const outputs = Object.keys(result.metafile.outputs).map((file) =>
    relative(join(out, 'assets'), join(__dirname, file)),
  );
  const js = outputs.find((f) => f.endsWith('.js'));
  const css = outputs.find((f) => f.endsWith('.css'));
  if (!js || !css) throw new Error(`dashboard bundle incomplete: ${outputs.join(', ')}`);
  const html = readFileSync(join(src, 'index.html'), 'utf8')
    .replace('%CSS%', `assets/${basename(css)}`)
    .replace('%JS%', `assets/${basename(js)}`);
  writeFileSync(join(out, 'index.html'), html);
}

main().catch((err) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
