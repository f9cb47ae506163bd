import { type INestApplication } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import { DocumentBuilder, SwaggerModule } from '@nestjs/swagger';
import { Logger } from 'nestjs-pino';
import { requestId } from './logging/logging';
import { AppModule } from './app.module';
import type { AppConfig } from './config/config';
import { INGESTION_OPENAPI_MODELS, addIngestionOpenApiPaths } from './ingestion/ingestion.openapi';

/**
 * Builds the application exactly as production runs it (main.ts and the e2e tests both use this).
 * Signals are handled by main.ts (drain, then exit 0), not by Nest's shutdown hooks.
 */
export async function createApp(config: AppConfig): Promise<NestFastifyApplication> {
  // maxParamLength: session ids may be 128 characters (Fastify answers 414 above 100 by default).
  const adapter = new FastifyAdapter({
    bodyLimit: config.maxBodyBytes,
    trustProxy: true,
    routerOptions: { maxParamLength: 500 },
    genReqId: requestId,
  });
  // Nest's own start-up lines wait for the pino logger (JSON lines, LOG_LEVEL) instead of printing as text.
  const app = await NestFactory.create<NestFastifyApplication>(AppModule.forRoot(config), adapter, {
    bufferLogs: true,
  });
  app.useLogger(app.get(Logger));
  // init() alone (ROLE=worker) never flushes the buffer: do it here.
  app.flushLogs();
  app
    .getHttpAdapter()
    .getInstance()
    .addHook('onRequest', (request, reply, done) => {
      void reply.header('x-request-id', request.id);
      done();
    });
  // Bodies are JSON (or form fields for the token endpoint); anything else is a 415.
  app.getHttpAdapter().getInstance().removeContentTypeParser('text/plain');
  if (config.role !== 'worker') setupSwagger(app);
  return app;
}

export function buildOpenApi(app: INestApplication): ReturnType<typeof SwaggerModule.createDocument> {
  const doc = new DocumentBuilder()
    .setTitle('The Eye')
    .setDescription(
      'Event collection: applications post user-activity events, a background worker validates and stores them ' +
        'ordered per session, the data team queries them and the quarantine. Get a token at POST /v1/auth/token, ' +
        'then "Authorize" with it.',
    )
    .setVersion('1')
    .addBearerAuth({ type: 'http', scheme: 'bearer', bearerFormat: 'JWT' })
    .build();
  const document = SwaggerModule.createDocument(app, doc, { extraModels: INGESTION_OPENAPI_MODELS });
  addIngestionOpenApiPaths(document);
  return document;
}

function setupSwagger(app: NestFastifyApplication): void {
  SwaggerModule.setup('docs', app, () => buildOpenApi(app), {
    jsonDocumentUrl: 'docs-json',
    swaggerOptions: { persistAuthorization: true },
  });
}
