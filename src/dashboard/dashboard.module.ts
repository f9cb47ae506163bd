import fastifyStatic from '@fastify/static';
import { Module, type OnModuleInit } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import type { FastifyInstance } from 'fastify';
import { DashboardController } from './dashboard.controller';

/**
 * GET /dashboard: the browser dashboard bundled by scripts/build-dashboard.js (npm run build).
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
  }
}
