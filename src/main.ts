import 'reflect-metadata';
import { Logger } from '@nestjs/common';
import { createApp } from './app.setup';
import { ConfigError, loadConfig } from './config/config';
import { migrate } from './prisma/migrator';

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
  const logger = new Logger('Bootstrap');
  const result = await migrate(config.databaseUrl);
  if (result.createdDatabase) logger.log('created the database');
  if (result.applied.length) logger.log(`applied migrations: ${result.applied.join(', ')}`);

  const app = await createApp(config);
  if (config.role === 'worker') {
    await app.init();
    logger.log('worker started (ROLE=worker)');
  } else {
    await app.listen(config.port, config.host);
    logger.log(`The Eye (ROLE=${config.role}) on http://${config.host}:${config.port} — docs at /docs`);
  }
}

bootstrap().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
