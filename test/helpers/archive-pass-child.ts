// Runs one archive pass in a process of its own and kills itself (SIGKILL: no cleanup, no
// rollback by the process) at the step named by argv[2] of the first move, for
// test/archive-pass.e2e-spec.ts. argv[3] is the pass's `before` day. Run with `node --import tsx`.
// The service is loaded from dist/ (built by `npm test`'s pretest): tsx emits no decorator
// metadata, so Nest could not inject the sources.
import type * as AppSetup from '../../src/app.setup';
import type * as Pass from '../../src/archive/archive-pass.service';
import type * as Config from '../../src/config/config';
import { testEnv } from './env';

/* eslint-disable @typescript-eslint/no-require-imports */
const { createApp } = require('../../dist/app.setup') as typeof AppSetup;
const { ArchivePassService } = require('../../dist/archive/archive-pass.service') as typeof Pass;
const { loadConfig } = require('../../dist/config/config') as typeof Config;
/* eslint-enable @typescript-eslint/no-require-imports */

async function main(): Promise<void> {
  const [step, before] = process.argv.slice(2) as [Pass.PassStep, string];
  // ROLE=api: no queue consumer in this process (it must not take the test's jobs with it).
  const app = await createApp(loadConfig(testEnv({ ROLE: 'api' })));
  await app.init();
  await app.get(ArchivePassService).run({
    before,
    hook: (at) => {
      if (at === step) process.kill(process.pid, 'SIGKILL');
    },
  });
  await app.close();
  process.exit(3); // the step never came
}

void main();
