import 'reflect-metadata';
import { type INestApplication, Logger } from '@nestjs/common';
import type { Server } from 'node:http';
import { createApp } from './app.setup';
import { ConfigError, loadConfig } from './config/config';
import { NestPinoLogger, createRootLogger } from './logging/logger';
import { migrate } from './prisma/migrator';

const DRAIN_TIMEOUT_MS = 25_000;
const HTTP_GRACE_MS = 10_000;

async function bootstrap(): Promise<void> {
  let config;
  try {
    config = loadConfig();
  } catch (err) {
    if (err instanceof ConfigError) {
      console.error(err.message);
      process.exit(1);
    }
    throw err;
  }
  // JSON lines from the first one (the migrations run before the application exists).
  const root = createRootLogger(config);
  Logger.overrideLogger(new NestPinoLogger(root));
  const logger = new Logger('Bootstrap');
  const result = await migrate(config.databaseUrl);
  if (result.createdDatabase) logger.log('created the database');
  if (result.applied.length) logger.log(`applied migrations: ${result.applied.join(', ')}`);

  const app = await createApp(config, root);
  drainOnSignals(app, logger);
  if (config.role === 'worker') {
    await app.init();
    logger.log('worker started (ROLE=worker)');
  } else {
    await app.listen(config.port, config.host);
    logger.log(`The Eye (ROLE=${config.role}) on http://${config.host}:${config.port} — docs at /docs`);
  }
}

/**
 * SIGTERM/SIGINT drain: stop taking requests (in-flight ones finish), let the worker finish its
 * active jobs (waiting jobs stay in Redis for the next worker), close connections, exit 0.
 */
function drainOnSignals(app: INestApplication, logger: Logger): void {
  let draining = false;
  const drain = async (signal: string): Promise<void> => {
    if (draining) return;
    draining = true;
    logger.log(`${signal}: draining`);
    const watchdog = setTimeout(() => {
      logger.error(`drain took over ${DRAIN_TIMEOUT_MS} ms; exiting`);
      process.exit(1);
    }, DRAIN_TIMEOUT_MS);
    watchdog.unref();
    // Keep-alive connections that finish their request after close() began would otherwise stay
    // open until Fastify's 72 s keep-alive timeout: close each as soon as it is idle, and cut
    // whatever is still open after the grace period.
    const server = app.getHttpServer() as Server | undefined;
    const idleCloser = setInterval(() => server?.closeIdleConnections?.(), 100);
    idleCloser.unref();
    setTimeout(() => server?.closeAllConnections?.(), HTTP_GRACE_MS).unref();
    try {
      await app.close();
      logger.log('drained; bye');
      process.exit(0);
    } catch (err) {
      logger.error(`drain failed: ${err instanceof Error ? err.message : String(err)}`);
      process.exit(1);
    }
  };
  for (const signal of ['SIGTERM', 'SIGINT']) process.on(signal, () => void drain(signal));
}

bootstrap().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
