import { type NestFastifyApplication, RouteConfig } from '@nestjs/platform-fastify';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { WriteKeysService } from '../auth/write-keys.service';
import { SegmentService } from './segment.service';

const BROWSER_ROUTE = 'theEyeSegmentBrowser';

/**
 * What @segment/analytics-next 1.84.3 posts to (its Segment.io integration's apiHost + "/" + the
 * call's first letter, or "/b" in its batching mode), next to Segment's long paths.
 */
export const SEGMENT_PATHS = {
  batch: ['batch', 'b'],
  track: ['track', 't'],
  page: ['page', 'p'],
  screen: ['screen', 's'],
  identify: ['identify', 'i'],
  group: ['group', 'g'],
  alias: ['alias', 'a'],
} as const;

/** Request headers the SDK sends: its Basic write key, text/plain, and the count of a retry. */
const ALLOWED_HEADERS = 'Authorization, Content-Type, X-Retry-Count';
/** Headers a page's SDK must read: Retry-After of a 429 (else it would retry at once). */
const EXPOSED_HEADERS = 'Retry-After, X-Request-Id';
/** Seconds a browser may reuse a preflight's answer (Chromium caps it at 7,200). */
const PREFLIGHT_MAX_AGE_S = 600;

/**
 * Marks a Segment route that web pages call: it takes `text/plain` JSON bodies (what the browser
 * SDK sends) and answers cross-origin requests from origins some write key allows. No other
 * route does either: the bearer-token API answers no cross-origin request. `config`: the route's
 * other route config (Nest keeps only one RouteConfig() per method), e.g. bodyLimitConfig().
 */
export const BrowserRoute = (config: Record<string, unknown> = {}): MethodDecorator =>
  RouteConfig({ ...config, [BROWSER_ROUTE]: true });

const isBrowserRoute = (request: FastifyRequest): boolean =>
  (request.routeOptions?.config as unknown as Record<string, unknown> | undefined)?.[BROWSER_ROUTE] === true;

/**
 * Installs what the browser routes need, before the routes are registered (call after
 * NestFactory.create, before init()):
 * - `text/plain` bodies parsed as JSON, with the JSON parser's errors and limits, on those routes
 *   only (elsewhere 415, as before);
 * - CORS headers on their answers (errors included: a page's SDK must read a 400, 401 or 429 to
 *   drop or delay rather than retry blindly) when the request's Origin is allowed by some key;
 *   the key itself is checked against the Origin by the route (403 there);
 * - answers to CORS preflights on their paths, for those origins only;
 * - a 429 before the body is read for a web page's address that has spent its budget.
 */
export function registerSegmentBrowserSupport(app: NestFastifyApplication): void {
  const fastify = app.getHttpAdapter().getInstance();
  const writeKeys = app.get(WriteKeysService);
  const segment = app.get(SegmentService);
  const parseJson = fastify.getDefaultJsonParser('error', 'error');
  fastify.removeContentTypeParser('text/plain');
  fastify.addContentTypeParser('text/plain', { parseAs: 'string' }, (request, body, done) => {
    if (!isBrowserRoute(request)) {
      done(
        Object.assign(new Error('Unsupported Media Type'), {
          code: 'FST_ERR_CTP_INVALID_MEDIA_TYPE',
          statusCode: 415,
        }),
        undefined,
      );
      return;
    }
    void parseJson(request, body as string, done);
  });

  // Synchronous for every other route: an async hook would cost each API request a promise.
  fastify.addHook('onRequest', (request, reply, done) => {
    if (!isBrowserRoute(request)) return done();
    void reply.header('Vary', 'Origin');
    const origin = request.headers.origin;
    if (origin === undefined) return done();
    writeKeys.preflightAllowed(origin).then(
      (allowed) => {
        if (allowed) allowOrigin(reply, origin);
        // A page's address over its budget: refused before its body is read and the route runs,
        // so that a flood costs little (the route counts and refuses the rest the same way).
        if (request.method === 'POST' && segment.addressExhausted(request.ip)) {
          void reply
            .status(429)
            .header('Retry-After', '1')
            .send({ code: 'rate_limited', message: 'This address may not send more events this second' });
          return;
        }
        done();
      },
      (err: unknown) => done(err as Error),
    );
  });

  const paths = [
    ...Object.values(SEGMENT_PATHS)
      .flat()
      .map((p) => `/v1/${p}`),
    '/v1/projects/:writeKey/settings',
  ];
  for (const url of paths) {
    fastify.route({
      method: 'OPTIONS',
      url,
      handler: async (request, reply) => {
        const origin = request.headers.origin;
        void reply.header('Vary', 'Origin');
        if (origin !== undefined && (await writeKeys.preflightAllowed(origin))) {
          allowOrigin(reply, origin);
          void reply
            .header('Access-Control-Allow-Methods', 'POST, GET')
            .header('Access-Control-Allow-Headers', ALLOWED_HEADERS)
            .header('Access-Control-Max-Age', String(PREFLIGHT_MAX_AGE_S));
          // Chromium asks before a public site's page calls an address on a private network
          // (The Eye on an intranet): the same origins may.
          if (request.headers['access-control-request-private-network'] === 'true')
            void reply.header('Access-Control-Allow-Private-Network', 'true');
          return reply.status(204).send();
        }
        return reply.status(403).send({
          code: 'forbidden',
          message: 'Cross-origin requests are answered only for origins a write key allows (allowed_origins)',
        });
      },
    });
  }
}

function allowOrigin(reply: FastifyReply, origin: string): void {
  void reply
    .header('Access-Control-Allow-Origin', origin)
    .header('Access-Control-Expose-Headers', EXPOSED_HEADERS);
}
