#!/usr/bin/env node
// npm run openapi — writes openapi.json (repo root): the OpenAPI document exactly as the app
// serves it at /docs-json, built from the compiled app (dist/) without listening. Creating the
// app opens no connection (PostgreSQL, Redis and the queue connect lazily or in init(), which is
// not called), so this works on a machine with neither running. The test
// test/openapi.e2e-spec.ts fails when the committed file differs from what the app serves.
require('reflect-metadata');
const { writeFileSync } = require('node:fs');
const { join } = require('node:path');

async function main() {
  const { createApp, buildOpenApi, serializeOpenApi } = require('../dist/app.setup');
  const { loadConfig } = require('../dist/config/config');
  // A fixed configuration: the document must not depend on the caller's environment.
  const app = await createApp(loadConfig({ ROLE: 'api', LOG_LEVEL: 'error' }));
  const out = join(__dirname, '..', 'openapi.json');
  writeFileSync(out, serializeOpenApi(buildOpenApi(app)));
  console.log(`wrote ${out}`);
  // Nothing was connected; exit without waiting for the lazy clients' timers.
  process.exit(0);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
