// Storage over time (docs/storage.md): the hot tier's day partitions, the embedded DuckDB, the
// writer of a day's file, the registry of the archive's files and the reader of the read paths'
// queries over them.
import { Module } from '@nestjs/common';
import { ArchiveCatalogRepository } from './archive-catalog.repository';
import { ArchiveController } from './archive.controller';
import { ArchiveMaintenanceRepository } from './archive-maintenance.repository';
import { ArchivePassService } from './archive-pass.service';
import { ArchiveStorageService } from './archive-storage.service';
import { ArchiveFilesRepository } from './archive-files.repository';
import { ArchiveReader } from './archive-reader.repository';
import { ArchiveSourceRepository } from './archive-source.repository';
import { ArchiveWriter } from './archive-writer.service';
import { DuckDbService } from './duckdb.service';
import { EventPartitionsRepository } from './event-partitions.repository';

@Module({
  providers: [
    DuckDbService,
    ArchiveSourceRepository,
    ArchiveFilesRepository,
    ArchiveWriter,
    ArchiveReader,
    ArchiveCatalogRepository,
    EventPartitionsRepository,
    ArchiveMaintenanceRepository,
    ArchivePassService,
    ArchiveStorageService,
  ],
  controllers: [ArchiveController],
  exports: [
    DuckDbService,
    ArchiveWriter,
    ArchiveReader,
    ArchiveCatalogRepository,
    EventPartitionsRepository,
    ArchivePassService,
  ],
})
export class ArchiveModule {}
