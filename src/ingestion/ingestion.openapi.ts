import { type OpenAPIObject, getSchemaPath } from '@nestjs/swagger';
import { ErrorDto } from '../common/error.dto';
import { scopeSecurity } from '../auth/auth.decorators';
import { errorResponses } from '../common/swagger';
import { BatchDto, BatchResponseDto, EventDto, QueuedDto } from './ingestion.dto';

type PathItem = OpenAPIObject['paths'][string];
type Operation = NonNullable<PathItem['post']>;

/** Models the hand-written operations refer to (SwaggerModule.createDocument `extraModels`). */
export const INGESTION_OPENAPI_MODELS = [EventDto, BatchDto, QueuedDto, BatchResponseDto, ErrorDto];

const json = (model: new () => unknown): { 'application/json': { schema: { $ref: string } } } => ({
  'application/json': { schema: { $ref: getSchemaPath(model) } },
});

function post(
  operationId: string,
  summary: string,
  body: new () => unknown,
  accepted: new () => unknown,
): Operation {
  return {
    operationId,
    summary,
    tags: ['ingestion'],
    parameters: [],
    requestBody: { required: true, content: json(body) },
    responses: {
      '202': { description: '', content: json(accepted) },
      ...errorResponses(400, 401, 403, 413, 415, 429, { status: 503, examples: ['queue_unavailable'] }),
    },
    // Scope events:write (see IngestionRoutes).
    security: scopeSecurity(['events:write']),
  };
}

/**
 * The ingestion POSTs, served by plain Fastify routes (ingestion.routes.ts) that Nest's Swagger
 * scanner cannot see, documented as their controller methods were: same operation ids, DTOs,
 * 202 responses, error responses and bearer security.
 */
export function addIngestionOpenApiPaths(doc: OpenAPIObject): void {
  doc.paths['/v1/events'] = {
    ...doc.paths['/v1/events'],
    post: post(
      'IngestionController_ingest',
      'Send one event; 202 once it is durably queued',
      EventDto,
      QueuedDto,
    ),
  };
  doc.paths['/v1/events/batch'] = {
    ...doc.paths['/v1/events/batch'],
    post: post(
      'IngestionController_ingestBatch',
      'Send up to 1,000 events; each is judged alone (one bad event never rejects its neighbours)',
      BatchDto,
      BatchResponseDto,
    ),
  };
}
