// Reads a Parquet file with hyparquet (an independent, pure-JavaScript reader) and prints its rows
// as JSON on stdout, for test/archive.e2e-spec.ts. Run in a child process (`node --import tsx`)
// because hyparquet ships ESM only, which Jest cannot load. Timestamps come out twice: as
// hyparquet's own Date (milliseconds) and as the raw int64 microseconds (a custom parser), to
// check that the archive keeps microseconds.
import { readFile } from 'node:fs/promises';
import { parquetMetadataAsync, parquetReadObjects } from 'hyparquet';
import { compressors } from 'hyparquet-compressors';

async function main(path: string): Promise<void> {
  const bytes = await readFile(path);
  // An ArrayBuffer is one of hyparquet's AsyncBuffers; the test's files are small.
  const file = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength);
  const metadata = await parquetMetadataAsync(file);
  const asDates = await parquetReadObjects({ file, compressors });
  const raw = await parquetReadObjects({
    file,
    compressors,
    parsers: { timestampFromMicroseconds: (micros: bigint) => micros },
  });
  const rows = raw.map((r, i) => ({
    ...r,
    seq: String(r.seq),
    timestamp_us: String(r.timestamp),
    received_at_us: String(r.received_at),
    timestamp_ms: (asDates[i].timestamp as Date).toISOString(),
    timestamp: undefined,
    received_at: undefined,
  }));
  const schema = metadata.schema.map((s) => ({
    name: s.name,
    type: s.type,
    logical: s.logical_type?.type ?? s.converted_type,
    unit: s.logical_type && 'unit' in s.logical_type ? s.logical_type.unit : undefined,
    utc: s.logical_type && 'isAdjustedToUTC' in s.logical_type ? s.logical_type.isAdjustedToUTC : undefined,
  }));
  const codecs = [...new Set(metadata.row_groups.flatMap((g) => g.columns.map((c) => c.meta_data?.codec)))];
  process.stdout.write(JSON.stringify({ schema, codecs, rows }));
}

void main(process.argv[2]);
