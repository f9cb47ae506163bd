import { Injectable, type OnModuleInit } from '@nestjs/common';
import { HttpAdapterHost, ModuleRef } from '@nestjs/core';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { AuthGuard } from '../auth/auth.guard';
import type { Scope } from '../auth/scopes';
import { AllExceptionsFilter } from '../common/all-exceptions.filter';
import { IngestionService } from './ingestion.service';

const WRITE: readonly Scope[] = ['events:write'];

/**
 * `POST /v1/events` and `POST /v1/events/batch` are plain Fastify routes, not Nest controller
 * methods. They are the hot path (every event of every application), and Nest's per-request
 * pipeline (execution context, guard and pipe consumers, parameter factories, interceptor and
 * response plumbing) costs a measurable share of the service's CPU per single event; everything
 * it would do for these two routes is done here in a few lines, with public APIs only:
 *
 * - Fastify parses the body with the application's parsers: body limit, content types and
 *   parse errors are answered exactly as on every other route (through the global filter, which
 *   Nest installs as Fastify's error handler).
 * - Authentication is the global guard's own method (`AuthGuard.authenticate`: same token cache,
 *   client state, scopes, 401/403), with the scope a controller would declare with @Scopes().
 * - Errors thrown by the guard or the service are answered with the global filter's mapping
 *   (`AllExceptionsFilter.toResponse`), so the error vocabulary stays one.
 * - They are documented in the OpenAPI document by `ingestionOpenApiPaths` (ingestion.openapi.ts),
 *   since Nest's Swagger scanner only sees controllers.
 *
 * There are no global interceptors, and the global ValidationPipe has nothing to do with these
 * untyped bodies (envelope.ts checks them). A new global enhancer would not apply here: add its
 * effect to `handle` as well. The routes are added in onModuleInit, i.e. after Nest registered
 * its own and before the server listens; GET /v1/events/:id stays in IngestionController.
 */
@Injectable()
export class IngestionRoutes implements OnModuleInit {
  private errors!: AllExceptionsFilter;

  constructor(
    private readonly adapterHost: HttpAdapterHost,
    private readonly moduleRef: ModuleRef,
    private readonly auth: AuthGuard,
    private readonly ingestion: IngestionService,
  ) {}

  onModuleInit(): void {
    this.errors = this.moduleRef.get(AllExceptionsFilter, { strict: false });
    const fastify = this.adapterHost.httpAdapter.getInstance<FastifyInstance>();
    fastify.post('/v1/events', (request, reply) =>
      this.handle(request, reply, (body, clientId) => this.ingestion.ingestOne(body, clientId)),
    );
    fastify.post('/v1/events/batch', (request, reply) =>
      this.handle(request, reply, (body, clientId) => this.ingestion.ingestBatch(body, clientId)),
    );
  }

  private async handle(
    request: FastifyRequest,
    reply: FastifyReply,
    ingest: (body: unknown, clientId: string) => Promise<unknown>,
  ): Promise<FastifyReply> {
    try {
      const principal = await this.auth.authenticate(request.headers.authorization, WRITE);
      return reply.status(202).send(await ingest(request.body, principal.clientId));
    } catch (err) {
      const { status, body, headers } = this.errors.toResponse(err, request);
      if (headers) void reply.headers(headers);
      return reply.status(status).send(body);
    }
  }
}
