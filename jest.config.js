// Two tiers: unit specs next to the code (src/**/*.spec.ts, strict mocks) and e2e specs
// (test/**/*.e2e-spec.ts) against a real PostgreSQL and Redis. Jest has no per-project maxWorkers
// (jestjs/jest#10936), so `npm test` runs two invocations: unit and client specs in parallel
// workers, then the e2e specs one file at a time (--maxWorkers=1: they share one database and one
// Redis database). No forceExit: a run that does not exit by itself has a leak to fix (find it with
// `npx jest <file> --detectOpenHandles`).
const tsJest = ['ts-jest', { tsconfig: { isolatedModules: true } }];
// Packages that ship ESM only (uuid): Node 20.19+ loads them from CommonJS natively (require(esm)),
// Jest on Node 20 cannot, so Jest compiles them to CommonJS.
const esmOnly = ['uuid'];
const shared = {
  testEnvironment: 'node',
  rootDir: __dirname,
  transform: {
    '^.+\\.ts$': tsJest,
    '^.+\\.js$': ['ts-jest', { tsconfig: { allowJs: true, isolatedModules: true } }],
  },
  transformIgnorePatterns: [`/node_modules/(?!(${esmOnly.join('|')})/)`],
};

/** @type {import('jest').Config} */
module.exports = {
  projects: [
    {
      ...shared,
      displayName: 'unit',
      testMatch: ['<rootDir>/src/**/*.spec.ts'],
    },
    {
      // @the-eye/client: its own specs against stubbed servers (the real-server ones are e2e specs).
      ...shared,
      displayName: 'client',
      testMatch: ['<rootDir>/packages/client/test/**/*.spec.ts'],
    },
    {
      ...shared,
      displayName: 'e2e',
      testMatch: ['<rootDir>/test/**/*.e2e-spec.ts', '<rootDir>/bench/**/*.e2e-spec.ts'],
      globalSetup: '<rootDir>/test/global-setup.ts',
    },
  ],
  testTimeout: 60_000,
};
