import { applyDecorators } from '@nestjs/common';
import { ApiResponse, getSchemaPath } from '@nestjs/swagger';
import { ErrorDto } from './error.dto';

const DESCRIPTIONS: Record<number, string> = {
  400: 'Invalid request: `{code, message, errors:[{path, message}]}`',
  401: 'Missing, invalid or revoked token (or bad client credentials)',
  403: 'The token lacks the scope this route needs',
  404: 'Not found',
  409: 'Conflict',
  413: 'Body larger than MAX_BODY_BYTES',
  415: 'Content-Type is not JSON',
  429: 'Backlog over its limit; retry after `Retry-After` seconds',
  503: 'Queue (Redis) or database unreachable; retry after `Retry-After` seconds',
};

/** Documents the error responses of a route, all with the contract's error body. */
export function ApiErrors(...statuses: number[]): MethodDecorator & ClassDecorator {
  return applyDecorators(
    ...statuses.map((status) =>
      ApiResponse({ status, description: DESCRIPTIONS[status] ?? 'Error', type: ErrorDto }),
    ),
  );
}

/**
 * The same error responses as ApiErrors, as OpenAPI response objects: for routes documented by
 * hand (the Fastify ingestion routes, ingestion.openapi.ts). ErrorDto must be in `extraModels`.
 */
export function errorResponses(
  ...statuses: number[]
): Record<string, { description: string; content: Record<string, { schema: { $ref: string } }> }> {
  return Object.fromEntries(
    statuses.map((status) => [
      String(status),
      {
        description: DESCRIPTIONS[status] ?? 'Error',
        content: { 'application/json': { schema: { $ref: getSchemaPath(ErrorDto) } } },
      },
    ]),
  );
}
