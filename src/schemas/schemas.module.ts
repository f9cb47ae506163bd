import { Module } from '@nestjs/common';
import { SchemasController } from './schemas.controller';
import { SchemasService } from './schemas.service';
import { ValidatorRegistry } from './validator-registry';

/** The validator registry (used by the worker) and its admin API. */
@Module({
  controllers: [SchemasController],
  providers: [ValidatorRegistry, SchemasService],
  exports: [ValidatorRegistry],
})
export class SchemasModule {}
