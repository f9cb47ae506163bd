import fastifyStatic from '@fastify/static';
import { Module, type OnModuleInit } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import type { FastifyInstance } from 'fastify';
import { DashboardController } from './dashboard.controller';

/**
 * GET /dashboard: the browser dashboard, its own package (packages/dashboard) built by `npm run build`.
 * @fastify/static only decorates the reply with sendFile here (serve: false); the controller
 * picks the file and its cache policy, so the routes stay Nest routes behind the global guard.
 */
@Module({ controllers: [DashboardController] })
export class DashboardModule implements OnModuleInit {
  constructor(private readonly adapterHost: HttpAdapterHost) {}

  onModuleInit(): void {
    const fastify = this.adapterHost.httpAdapter.getInstance<FastifyInstance>();
    // Queued, not awaited: awaiting would load Fastify's plugin queue now and build the routes
    // before Nest installs its error handler, so body-parser errors would skip the global filter.
    void fastify.register(fastifyStatic, { serve: false });
    // People type /dashboard/ too. Nest drops a route's trailing slash, so this one is Fastify's
    // own: a permanent redirect to the one page URL (the browser keeps the #view fragment).
    fastify.get('/dashboard/', (request, reply) =>
      reply.redirect(`/dashboard${request.url.slice('/dashboard/'.length)}`, 301),
    );
  }
}
