// Writes one UTC day of PostgreSQL's events as one Parquet file of the archive, atomically:
// the file is written under a temporary name in its final folder, fsynced, renamed, and the
// folder fsynced, so a crash leaves either no file or the whole file, never a torn one (a
// leftover temporary file is ignored by readers: archive-layout.ts). Registering the file and
// dropping the day's partition are the move pass's later steps (docs/storage.md).
import { randomBytes } from 'node:crypto';
import { mkdir, open, rename, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { Inject, Injectable } from '@nestjs/common';
import { APP_CONFIG, type AppConfig } from '../config/config';
import { dayDir } from './archive-layout';
import { ArchiveFilesRepository } from './archive-files.repository';
import { ArchiveSourceRepository } from './archive-source.repository';
import { DuckDbService } from './duckdb.service';

export interface ArchivedFile {
  /** Events written (0: the day had none and no file was written). */
  events: number;
  /** Size of the file in bytes. */
  bytes: number;
  /** The file's path, null when nothing was written. */
  path: string | null;
}

async function fsyncPath(path: string): Promise<void> {
  const handle = await open(path, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

@Injectable()
export class ArchiveWriter {
  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly duckdb: DuckDbService,
    private readonly source: ArchiveSourceRepository,
    private readonly files: ArchiveFilesRepository,
  ) {}

  /**
   * Archives the events of UTC day `day` (YYYY-MM-DD) found in PostgreSQL now as
   * `events/date=<day>/<fileName>`. The default name is new each call, so a second file of the
   * same day (late events) never replaces the first.
   */
  async writeDay(
    day: string,
    fileName = `part-${Date.now()}-${randomBytes(4).toString('hex')}.parquet`,
  ): Promise<ArchivedFile> {
    if (!/^[\w.-]+\.parquet$/.test(fileName) || fileName.startsWith('.')) {
      throw new Error(`archive file names are [A-Za-z0-9_.-]+.parquet, not starting with ".": ${fileName}`);
    }
    const dir = dayDir(this.config.archiveDir, day);
    const finalPath = join(dir, fileName);
    const tempPath = join(dir, `.${fileName}.${randomBytes(4).toString('hex')}.tmp`);
    const stage = `archive_stage_${randomBytes(6).toString('hex')}`;
    return this.duckdb.use(async (connection) => {
      await this.files.createStage(connection, stage);
      try {
        let staged = 0;
        for await (const rows of this.source.dayEvents(day)) {
          await this.files.appendRows(connection, stage, rows);
          staged += rows.length;
        }
        if (staged === 0) return { events: 0, bytes: 0, path: null };
        await mkdir(dir, { recursive: true });
        try {
          const events = await this.files.copyToParquet(connection, stage, tempPath);
          await fsyncPath(tempPath);
          await rename(tempPath, finalPath);
          await fsyncPath(dir);
          return { events, bytes: (await stat(finalPath)).size, path: finalPath };
        } finally {
          await rm(tempPath, { force: true });
        }
      } finally {
        await this.files.dropStage(connection, stage);
      }
    });
  }
}
