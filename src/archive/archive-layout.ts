// Where the archive's files live: Hive layout `<ARCHIVE_DIR>/events/date=YYYY-MM-DD/<file>.parquet`
// (docs/storage.md). A file being written has a name starting with "." and not ending in
// ".parquet", so no reader ever sees it before its atomic rename.
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';

const DAY_RE = /^\d{4}-\d{2}-\d{2}$/;
const DAY_DIR_RE = /^date=(\d{4}-\d{2}-\d{2})$/;
const DAY_MS = 86_400_000;

/** Throws unless `day` is a real calendar day written YYYY-MM-DD. */
export function checkDay(day: string): string {
  if (!DAY_RE.test(day) || new Date(`${day}T00:00:00Z`).toISOString().slice(0, 10) !== day) {
    throw new Error(`not a day (YYYY-MM-DD): ${day}`);
  }
  return day;
}

/** The UTC day of an RFC 3339 timestamp (any offset) or of a Date. */
export function utcDay(t: string | Date): string {
  return (typeof t === 'string' ? new Date(t) : t).toISOString().slice(0, 10);
}

/** The next UTC day. */
export function nextDay(day: string): string {
  return new Date(Date.parse(`${day}T00:00:00Z`) + DAY_MS).toISOString().slice(0, 10);
}

export function eventsDir(root: string): string {
  return join(root, 'events');
}

export function dayDir(root: string, day: string): string {
  return join(eventsDir(root), `date=${checkDay(day)}`);
}

/** The days present in the archive, in order. */
export async function archivedDays(root: string): Promise<string[]> {
  const entries = await readdir(eventsDir(root), { withFileTypes: true }).catch(
    (err: NodeJS.ErrnoException) => {
      if (err.code === 'ENOENT') return [];
      throw err;
    },
  );
  return entries
    .filter((e) => e.isDirectory())
    .map((e) => DAY_DIR_RE.exec(e.name)?.[1])
    .filter((d): d is string => d !== undefined)
    .sort();
}

/**
 * The Parquet files of each day in [fromDay, toDay] (either bound open) that has any, days in
 * order. Listing the folders instead of handing DuckDB a glob prunes the days outside the range
 * before any file is opened, and an empty range is an empty list rather than DuckDB's "no files
 * found".
 */
export async function archiveFilesByDay(
  root: string,
  fromDay?: string,
  toDay?: string,
): Promise<{ day: string; files: string[] }[]> {
  const days: { day: string; files: string[] }[] = [];
  for (const day of await archivedDays(root)) {
    if ((fromDay !== undefined && day < fromDay) || (toDay !== undefined && day > toDay)) continue;
    const dir = dayDir(root, day);
    const names = await readdir(dir).catch(() => [] as string[]);
    const files = names.filter((n) => n.endsWith('.parquet') && !n.startsWith('.')).map((n) => join(dir, n));
    if (files.length > 0) days.push({ day, files: files.sort() });
  }
  return days;
}

/** The Parquet files of the days in [fromDay, toDay], sorted by path (see archiveFilesByDay). */
export async function archiveFiles(root: string, fromDay?: string, toDay?: string): Promise<string[]> {
  return (await archiveFilesByDay(root, fromDay, toDay)).flatMap((d) => d.files);
}
