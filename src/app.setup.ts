import { type INestApplication } from '@nestjs/common';
import { LogController } from 'fastify';
import type { Logger as PinoLogger } from 'pino';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import { DocumentBuilder, type OpenAPIObject, SwaggerModule } from '@nestjs/swagger';
import { AppModule } from './app.module';
import { SCOPE_DESCRIPTIONS } from './auth/scopes';
import { BEARER_SCHEME, OAUTH2_SCHEME, WRITE_KEY_SCHEME, describeScopes } from './common/swagger';
import { AllExceptionsFilter } from './common/all-exceptions.filter';
import { SWAGGER_UI_OPTIONS, secureDocs } from './common/swagger-ui';
import { applyBodyLimits } from './common/body-limit';
import { registerFormParser } from './common/form-body';
import type { AppConfig } from './config/config';
import { registerSegmentBrowserSupport } from './segment/segment-browser';
import { INGESTION_OPENAPI_MODELS, addIngestionOpenApiPaths } from './ingestion/ingestion.openapi';
import {
  NestPinoLogger,
  REQUEST_ID_HEADER,
  REQUEST_ID_LABEL,
  createRootLogger,
  lazyRequestLogger,
  requestId,
} from './logging/logger';

/**
 * Builds the application exactly as production runs it (main.ts and the e2e tests both use this).
 * Signals are handled by main.ts (drain, then exit 0), not by Nest's shutdown hooks.
 *
 * Logging: one pino logger. Fastify gives each request a child of it (`request.log`, every line
 * with the request's `reqId`); no AsyncLocalStorage, which on Node 20 slows every promise of the
 * process. Lines a request causes are written through `request.log` (the exception filter does);
 * the rest of the service logs through Nest's Logger, which writes to the same pino logger.
 */
export async function createApp(
  config: AppConfig,
  logger: PinoLogger = createRootLogger(config),
): Promise<NestFastifyApplication> {
  // maxParamLength: session ids may be 128 characters (Fastify answers 414 above 100 by default).
  const adapter = new FastifyAdapter({
    bodyLimit: config.maxBodyBytes,
    // The source address of a request (guessing limits) is the TCP peer; only a configured proxy's
    // X-Forwarded-For is believed, and only the hops trusted proxies added (proxy-addr's walk).
    trustProxy: config.trustedProxies.length > 0 ? [...config.trustedProxies] : false,
    routerOptions: { maxParamLength: 500 },
    loggerInstance: logger,
    genReqId: requestId,
    childLoggerFactory: lazyRequestLogger,
    // No access line per request: at ingestion rates that is one write per event. Errors are
    // logged by the exception filter, refusals at LOG_LEVEL=debug.
    logController: new LogController({ disableRequestLogging: true, requestIdLogLabel: REQUEST_ID_LABEL }),
  });
  const app = await NestFactory.create<NestFastifyApplication>(AppModule.forRoot(config), adapter, {
    logger: new NestPinoLogger(logger),
    bufferLogs: false,
  });
  const fastify = app.getHttpAdapter().getInstance();
  fastify.addHook('onRequest', (request, reply, done) => {
    void reply.header(REQUEST_ID_HEADER, request.id);
    // Every response, errors and static files included: browsers must not guess another type.
    void reply.header('x-content-type-options', 'nosniff');
    // Token responses (and their errors) must never be kept by a cache (RFC 6749 §5.1).
    if (request.routeOptions.url === TOKEN_ROUTE) {
      void reply.header('cache-control', 'no-store').header('pragma', 'no-cache');
    }
    // Many HTTP wrappers send `content-type: application/json` on every call, a DELETE's too: with
    // nothing after it, that is a request without a body, not an empty (invalid) JSON document.
    if (isEmptyBody(request.headers)) delete request.headers['content-type'];
    done();
  });
  // Bodies are JSON (or form fields where @AcceptsForm() says so, text/plain JSON on the Segment
  // routes web pages call); anything else is a 415.
  fastify.removeContentTypeParser('text/plain');
  registerFormParser(app);
  if (config.role !== 'worker') {
    registerSegmentBrowserSupport(app);
    // Before init(), which registers the routes: @BodyLimit() routes get their own limit.
    applyBodyLimits(fastify, app.get(AllExceptionsFilter));
    setupSwagger(app);
  }
  return app;
}

const TOKEN_ROUTE = '/v1/auth/token';

/** A content type was sent, but no body: Content-Length 0, or neither a length nor chunks. */
function isEmptyBody(headers: Record<string, string | string[] | undefined>): boolean {
  if (headers['content-type'] === undefined) return false;
  const length = headers['content-length'];
  return length === '0' || (length === undefined && headers['transfer-encoding'] === undefined);
}

export function buildOpenApi(app: INestApplication): OpenAPIObject {
  const doc = new DocumentBuilder()
    .setTitle('The Eye')
    .setDescription(
      'Event collection: applications post user-activity events, a background worker validates and stores them ' +
        'ordered per session, the data team queries them and the quarantine. Sign in with "Authorize": enter ' +
        'your client_id and client_secret under `oauth2` (OAuth 2.0 client credentials; leave the scopes ' +
        "unticked to get all of your client's scopes), or paste a token from POST /v1/auth/token under `bearer`. " +
        "Each operation says the scope it needs. Segment's routes take a write key instead, under `writeKey`.",
    )
    .setVersion('1')
    // Tags in the order an analyst reads them (Swagger UI lists them so).
    .addTag('auth', 'Get a token (or use "Authorize")')
    .addTag('analytics', 'Query stored events, sessions and counts (events:read)')
    .addTag('quarantine', 'Events the worker refused, and their replay')
    .addTag('ingestion', 'Send events (events:write)')
    .addTag(
      'segment',
      'Segment\'s HTTP Tracking API, for Segment SDKs (a write key: `writeKey` under "Authorize")',
    )
    .addTag('schemas', 'Payload JSON Schemas per event type (read: events:read, write: admin)')
    .addTag('clients (admin)', 'Trusted clients and their secrets')
    .addTag('operations', 'Health, readiness, metrics')
    // The Authorize dialog lists the schemes in this order: client credentials first.
    .addOAuth2(
      {
        type: 'oauth2',
        description: 'Client credentials (RFC 6749 §4.4): client_id + client_secret of a registered client',
        flows: { clientCredentials: { tokenUrl: '/v1/auth/token', scopes: SCOPE_DESCRIPTIONS } },
      },
      OAUTH2_SCHEME,
    )
    .addBearerAuth({ type: 'http', scheme: 'bearer', bearerFormat: 'JWT' }, BEARER_SCHEME)
    .addBasicAuth(
      {
        type: 'http',
        scheme: 'basic',
        description:
          "Segment's routes (/v1/batch, /v1/track, ...): the write key (POST /v1/clients/{client_id}/write-keys) " +
          'as user name, the password left empty, as Segment SDKs send it',
      },
      WRITE_KEY_SCHEME,
    )
    .build();
  const document = SwaggerModule.createDocument(app, doc, { extraModels: INGESTION_OPENAPI_MODELS });
  addIngestionOpenApiPaths(document);
  return sortedKeys(describeScopes(document));
}

/**
 * Paths and schemas in alphabetical order: the committed openapi.json then changes only where the
 * API does, whatever order modules register their routes in.
 */
function sortedKeys(doc: OpenAPIObject): OpenAPIObject {
  const sorted = <T>(record: Record<string, T>): Record<string, T> =>
    Object.fromEntries(Object.entries(record).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
  doc.paths = sorted(doc.paths);
  if (doc.components?.schemas) doc.components.schemas = sorted(doc.components.schemas);
  return doc;
}

/** The text of openapi.json (npm run openapi; the drift test compares it with /docs-json). */
export function serializeOpenApi(doc: OpenAPIObject): string {
  return `${JSON.stringify(doc, null, 2)}\n`;
}

function setupSwagger(app: NestFastifyApplication): void {
  secureDocs(app.getHttpAdapter().getInstance());
  SwaggerModule.setup('docs', app, () => buildOpenApi(app), SWAGGER_UI_OPTIONS);
}
