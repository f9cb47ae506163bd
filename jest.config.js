// Two tiers: unit specs next to the code (src/**/*.spec.ts, stubs allowed) and e2e specs
// (test/**/*.e2e-spec.ts) against a real PostgreSQL and Redis, run one file at a time.
const tsJest = ['ts-jest', { tsconfig: { isolatedModules: true } }];
// @fastify/static (Swagger UI assets) requires content-disposition 2, which ships ESM only; Node 20
// loads it natively (require(esm)) but Jest cannot, so Jest compiles it to CommonJS.
const esmOnly = ['content-disposition'];
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
  // e2e files share one database and one Redis database: one file at a time.
  maxWorkers: 1,
  testTimeout: 60_000,
  // In-process apps leave sockets (Bull, ioredis reconnect timers) that outlive their close();
  // without this `npm test` could hang after the last test instead of exiting.
  forceExit: true,
};
