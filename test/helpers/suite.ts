import { adminToken, startApp, type TestApp } from './app';

export interface SuiteApp extends TestApp {
  /** A token of the admin client of test/helpers/env.ts. */
  readonly admin: string;
}

/**
 * The app a describe block's tests share, with an admin token: started in a beforeAll, closed in
 * an afterAll, both registered where this is called. Read its fields in tests and hooks only (they
 * exist once the beforeAll has run).
 */
export function appWithAdmin(env: Record<string, string | undefined> = {}): SuiteApp {
  let started: (TestApp & { admin: string }) | undefined;
  beforeAll(async () => {
    const t = await startApp(env);
    started = { ...t, admin: await adminToken(t.url) };
  });
  afterAll(() => started?.close());
  const get = (): TestApp & { admin: string } => {
    if (!started) throw new Error('appWithAdmin: the app is started in beforeAll; use it in tests and hooks');
    return started;
  };
  return {
    get app() {
      return get().app;
    },
    get url() {
      return get().url;
    },
    get admin() {
      return get().admin;
    },
    close: () => get().close(),
  };
}
