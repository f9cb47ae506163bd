import { applyDecorators } from '@nestjs/common';
import { ApiExtraModels, ApiResponse, getSchemaPath, type OpenAPIObject } from '@nestjs/swagger';
import type { ErrorBody } from './api-error';
import { ErrorDto } from './error.dto';

/** Names of the security schemes in the document (see buildOpenApi in app.setup.ts). */
export const BEARER_SCHEME = 'bearer';
export const OAUTH2_SCHEME = 'oauth2';
/** Segment's routes: HTTP Basic with the write key as user name and an empty password. */
export const WRITE_KEY_SCHEME = 'writeKey';

type Example = { summary: string; value: ErrorBody };

/** One real example per error status (bodies as the API answers them). */
export const ERROR_EXAMPLES: Record<number, Record<string, Example>> = {
  400: {
    validation_failed: {
      summary: 'A parameter or field is invalid',
      value: {
        code: 'validation_failed',
        message: 'limit must be an integer from 1 to 1000',
        errors: [{ path: '/limit', message: 'limit must be an integer from 1 to 1000' }],
      },
    },
  },
  401: {
    unauthorized: {
      summary: 'No token, or an expired or revoked one',
      value: { code: 'unauthorized', message: 'A valid bearer token is required' },
    },
    invalid_client: {
      summary: 'Bad client credentials (token route)',
      value: { code: 'invalid_client', message: 'Unknown client, wrong secret or revoked client' },
    },
  },
  403: {
    forbidden: {
      summary: 'The token lacks the scope',
      value: { code: 'forbidden', message: 'This route needs one of the scopes: events:read' },
    },
  },
  404: {
    not_found: {
      summary: 'Unknown id',
      value: { code: 'not_found', message: 'No event 0192c0de-0000-7000-8000-000000000001' },
    },
  },
  409: {
    conflict: {
      summary: 'The bootstrap admin cannot be changed here',
      value: {
        code: 'conflict',
        message:
          'The bootstrap admin is configured by ADMIN_CLIENT_ID/ADMIN_CLIENT_SECRET and cannot be revoked here',
      },
    },
    archive_pass_running: {
      summary: 'An archive pass is already running (this process or another)',
      value: { code: 'conflict', message: 'An archive pass is already running; retry when it has finished' },
    },
    event_id_ambiguous: {
      summary: 'Several clients used this event id: name one with client_id',
      value: {
        code: 'conflict',
        message:
          'Several clients sent an event with id 0192c0de-0000-7000-8000-000000000001 (mobile-app, web-shop): ' +
          'name one with ?client_id=',
        errors: [{ path: 'client_id', message: 'must name one of: mobile-app, web-shop' }],
      },
    },
  },
  413: {
    payload_too_large: {
      summary: 'Body over MAX_BODY_BYTES',
      value: {
        code: 'payload_too_large',
        message:
          'The request body is larger than the limit of 5242880 bytes (MAX_BODY_BYTES): split the batch into smaller requests',
      },
    },
  },
  415: {
    unsupported_media_type: {
      summary: 'Body is not JSON',
      value: {
        code: 'unsupported_media_type',
        message:
          'Content-Type text/plain is not accepted: send the body as JSON with Content-Type: application/json',
      },
    },
  },
  429: {
    rate_limited: {
      summary: 'Over a limit; retry after Retry-After seconds',
      value: {
        code: 'rate_limited',
        message: 'The processing backlog is over its limit (200000 events)',
      },
    },
  },
  503: {
    queue_unavailable: {
      summary: 'The queue (Redis) is down; retry after Retry-After seconds',
      value: { code: 'queue_unavailable', message: 'The event queue is unreachable; retry later' },
    },
    service_unavailable: {
      summary: 'A dependency is down',
      value: { code: 'service_unavailable', message: 'Not ready: postgres up, redis down' },
    },
    query_timeout: {
      summary: 'An analytics query ran too long (narrow it; no Retry-After)',
      value: {
        code: 'query_timeout',
        message:
          'The query ran longer than ANALYTICS_STATEMENT_TIMEOUT (10000 ms) and was stopped: narrow it with a ' +
          'smaller from/to range or a more selective filter (session_id, category and name, client_id), or use a ' +
          'smaller limit',
      },
    },
  },
};

const DESCRIPTIONS: Record<number, string> = {
  400: 'Invalid request: `{code, message, errors:[{path, message}]}`',
  401: 'Missing, invalid or revoked token (or bad client credentials)',
  403: 'The token lacks the scope this route needs',
  404: 'Not found',
  409: 'Conflict',
  413: 'Body larger than MAX_BODY_BYTES',
  415: 'Content-Type is not JSON',
  429: 'Over a limit; retry after `Retry-After` seconds',
  503: 'Queue (Redis) or database unreachable (retry after `Retry-After` seconds), or an analytics query too broad (`query_timeout`)',
};

const RETRY_AFTER = {
  'Retry-After': {
    description: 'Seconds to wait before retrying (absent on query_timeout: narrow the query instead)',
    schema: { type: 'integer', example: 5 },
  },
};

/** Examples that belong to a few routes only: shown where a route names them. */
const ONLY_WHEN_NAMED = new Set(['invalid_client', 'query_timeout', 'event_id_ambiguous']);

/** A status, or a status with the names of the ERROR_EXAMPLES that apply to the route. */
export type ErrorStatus = number | { status: number; examples: string[] };

type ErrorResponse = NonNullable<OpenAPIObject['paths'][string]['get']>['responses'][string];

/** The OpenAPI response of one error status (or a status with the examples it names). */
function errorResponse(entry: ErrorStatus): ErrorResponse {
  const status = typeof entry === 'number' ? entry : entry.status;
  const all = ERROR_EXAMPLES[status] ?? {};
  const names =
    typeof entry === 'number'
      ? Object.keys(all).filter((name) => !ONLY_WHEN_NAMED.has(name))
      : entry.examples.filter((name) => all[name]);
  const examples = Object.fromEntries(names.map((name) => [name, all[name]]));
  return {
    description: DESCRIPTIONS[status] ?? 'Error',
    // Always JSON, even on a route that @ApiProduces() something else for its success.
    content: {
      'application/json': {
        schema: { $ref: getSchemaPath(ErrorDto) },
        ...(Object.keys(examples).length ? { examples } : {}),
      },
    },
    ...(status === 429 || status === 503 ? { headers: RETRY_AFTER } : {}),
  };
}

/**
 * Documents the error responses of a route, all with the contract's error body, real examples per
 * status (every example of ERROR_EXAMPLES for that status, or the ones named), and the
 * `Retry-After` header on 429 and 503. `ApiErrors(400, { status: 503, examples: ['query_timeout'] })`.
 */
export function ApiErrors(...statuses: ErrorStatus[]): MethodDecorator & ClassDecorator {
  return applyDecorators(
    ApiExtraModels(ErrorDto),
    ...statuses.map((entry) =>
      ApiResponse({
        status: typeof entry === 'number' ? entry : entry.status,
        ...errorResponse(entry),
      }),
    ),
  );
}

/**
 * Adds a "Scope:" line to the description of every operation from its OAuth2 security
 * requirements (set by @Scopes() or by hand with scopeSecurity()), so the page says which scope
 * each route needs; operations without security say they need no token.
 */
export function describeScopes(doc: OpenAPIObject): OpenAPIObject {
  for (const item of Object.values(doc.paths)) {
    for (const method of ['get', 'put', 'post', 'delete', 'patch'] as const) {
      const op = item[method];
      if (!op) continue;
      const scopes = (op.security ?? []).flatMap((req) => req[OAUTH2_SCHEME] ?? []);
      const writeKey = (op.security ?? []).some((req) => req[WRITE_KEY_SCHEME] !== undefined);
      const line = scopes.length
        ? `**Scope:** ${scopes.map((s) => `\`${s}\``).join(' or ')}` +
          (scopes.includes('admin') ? '' : ' (`admin` also passes)')
        : writeKey
          ? '**Scope:** none (no token needed): a write key instead, see `writeKey` under "Authorize"'
          : op.security?.length
            ? '**Scope:** any valid token'
            : '**Scope:** none (no token needed)';
      op.description = op.description ? `${line}\n\n${op.description}` : line;
    }
  }
  return doc;
}

/**
 * The same error responses as ApiErrors, as OpenAPI response objects: for routes documented by
 * hand (the Fastify ingestion routes, ingestion.openapi.ts). ErrorDto must be in `extraModels`.
 */
export function errorResponses(...statuses: ErrorStatus[]): Record<string, ErrorResponse> {
  return Object.fromEntries(
    statuses.map((entry) => [String(typeof entry === 'number' ? entry : entry.status), errorResponse(entry)]),
  );
}
