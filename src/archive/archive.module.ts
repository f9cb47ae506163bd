// The Parquet archive's foundations (docs/archive.md): the embedded DuckDB, the writer of a day's
// file and the reader of the read paths' queries. Not yet imported by AppModule nor used by any
// route: a later step wires it into the move pass and the reads spanning both tiers.
import { Module } from '@nestjs/common';
import { ArchiveFilesRepository } from './archive-files.repository';
import { ArchiveReader } from './archive-reader.repository';
import { ArchiveSourceRepository } from './archive-source.repository';
import { ArchiveWriter } from './archive-writer.service';
import { DuckDbService } from './duckdb.service';

@Module({
  providers: [DuckDbService, ArchiveSourceRepository, ArchiveFilesRepository, ArchiveWriter, ArchiveReader],
  exports: [DuckDbService, ArchiveWriter, ArchiveReader],
})
export class ArchiveModule {}
