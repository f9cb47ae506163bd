import { randomInt } from 'node:crypto';
import { http, type HttpResult, registerClient, startApp, type TestApp } from './app';
import { Fixtures } from './fixtures';
import type { EventPageDto } from './wire';

/** A page of an analytics list route: the envelope of every page DTO, rows left open. */
export type Page<T = Record<string, any>> = Pick<EventPageDto, 'next_cursor'> & { data: T[] };

/**
 * A year nobody else writes to (the test database is shared by every test file); epoch µs stay
 * safe integers until 2255.
 */
export const uniqueYear = (): number => randomInt(2100, 2250);

/** `path?params` with the params URL-encoded. */
export const withQuery = (path: string, params: Record<string, string>): string =>
  `${path}?${new URLSearchParams(params).toString()}`;

export interface AnalystSuite {
  /** The application (set in beforeAll). */
  t: TestApp;
  /** Rows written straight to the database. */
  fx: Fixtures;
  /** A token of a client with `events:read`. */
  reader: string;
  /** GET `path` of the application with the reader's token (or `token`). */
  get<T = Page>(path: string, token?: string): Promise<HttpResult<T>>;
}

/**
 * The setup the analytics suites share: registers beforeAll/afterAll hooks that start the app,
 * connect the fixtures and get an analyst's token, and close them after the suite. Call it at
 * the top of a describe block and read the fields inside tests and later hooks.
 */
export function analystSuite(): AnalystSuite {
  const suite = {
    get<T = Page>(path: string, token?: string): Promise<HttpResult<T>> {
      return http<T>(`${suite.t.url}${path}`, { token: token ?? suite.reader });
    },
  } as AnalystSuite;
  beforeAll(async () => {
    suite.t = await startApp();
    suite.fx = await Fixtures.connect();
    suite.reader = (await registerClient(suite.t.url, ['events:read'], 'analyst')).token;
  });
  afterAll(async () => {
    await suite.fx?.close();
    await suite.t?.close();
  });
  return suite;
}
