// npm run openapi — writes openapi.json (repo root): the OpenAPI document exactly as the app
// serves it at /docs-json, built from the compiled app (dist/) without listening; and the wire
// types generated from it (scripts/wire-types.ts). Creating the
// app opens no connection (PostgreSQL, Redis and the queue connect lazily or in init(), which is
// not called), so this works on a machine with neither running. The test
// test/openapi.e2e-spec.ts fails when either committed file differs from what the app serves.
//
// dist/, not src/: Nest resolves constructor dependencies from the decorator metadata tsc emits,
// which tsx (esbuild) does not; the types still come from src/.
import 'reflect-metadata';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { generateWireTypes, WIRE_TYPES_FILE } from './wire-types';

type AppSetup = typeof import('../src/app.setup');
type Config = typeof import('../src/config/config');

async function main(): Promise<void> {
  const dist = join(__dirname, '..', 'dist');
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- the compiled app, typed from src/
  const { createApp, buildOpenApi, serializeOpenApi } = require(join(dist, 'app.setup')) as AppSetup;
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- the compiled config, typed from src/
  const { loadConfig } = require(join(dist, 'config', 'config')) as Config;
  // A fixed configuration: the document must not depend on the caller's environment.
  const app = await createApp(loadConfig({ ROLE: 'api', LOG_LEVEL: 'error' }));
  const out = join(__dirname, '..', 'openapi.json');
  const doc = buildOpenApi(app);
  writeFileSync(out, serializeOpenApi(doc));
  console.log(`wrote ${out}`);
  writeFileSync(WIRE_TYPES_FILE, await generateWireTypes(doc));
  console.log(`wrote ${WIRE_TYPES_FILE}`);
  // Nothing was connected; exit without waiting for the lazy clients' timers.
  process.exit(0);
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
