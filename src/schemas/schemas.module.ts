import { Module } from '@nestjs/common';
import { SchemaCompiler } from './schema-compiler';
import { SchemasController } from './schemas.controller';
import { SchemasRepository } from './schemas.repository';
import { SchemasService } from './schemas.service';
import { ValidatorRegistry } from './validator-registry';

/** The validator registry (used by the worker), its compiler, and the schema API. */
@Module({
  controllers: [SchemasController],
  providers: [ValidatorRegistry, SchemaCompiler, SchemasRepository, SchemasService],
  exports: [ValidatorRegistry],
})
export class SchemasModule {}
