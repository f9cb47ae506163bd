import { Injectable } from '@nestjs/common';
import { ApiError } from '../common/api-error';
import { formatMicros, parseTimestamp, parseTimestampOrDate } from '../common/timestamp';
import { decodeCursor, encodeCursor } from '../common/cursor';
import { DEFAULT_LIMIT } from '../common/page-query.dto';
import type { AuditAction, AuditEventPageDto, AuditEventsQueryDto } from './audit.dto';
import { AuditRepository } from './audit.repository';

export { AUDIT_ACTIONS, type AuditAction } from './audit.dto';

export interface AuditEntry {
  /** The admin client that acted (the principal of the request). */
  actorClientId: string;
  action: AuditAction;
  /** What was acted on: a client id, `category/name` of a schema, … */
  target: string;
  /** Facts worth keeping (never a secret, a token or a hash: such keys are dropped). */
  details?: Record<string, unknown>;
}

/** Keys that could carry credentials never reach the table, whatever a caller passes. */
const SECRET_KEY = /secret|hash|password|token/i;
const DAY_MICROS = 86_400_000_000;
const DATE_RE = /^\d{4}-\d{2}-\d{2}$/;

/** The append-only audit trail of admin actions: other modules call record(). */
@Injectable()
export class AuditService {
  constructor(private readonly repo: AuditRepository) {}

  /** Appends one entry. Awaited by the action, so an admin action is never silently unaudited. */
  record(entry: AuditEntry): Promise<void> {
    const details: Record<string, unknown> = {};
    for (const [key, value] of Object.entries(entry.details ?? {})) {
      if (!SECRET_KEY.test(key)) details[key] = value;
    }
    return this.repo.insert({ ...entry, details });
  }

  async list(query: AuditEventsQueryDto): Promise<AuditEventPageDto> {
    const order = query.order ?? 'desc';
    const limit = query.limit ?? DEFAULT_LIMIT;
    const from = query.from === undefined ? null : parseTimestampOrDate(query.from);
    // A bare date in `to` means the end of that day.
    const to =
      query.to === undefined
        ? null
        : DATE_RE.test(query.to)
          ? (parseTimestampOrDate(query.to) ?? 0) + DAY_MICROS - 1
          : parseTimestamp(query.to);
    if (from !== null && to !== null && from > to) {
      throw ApiError.validation([{ path: '/from', message: 'from must not be after to' }]);
    }
    const after = query.cursor ? decodeCursor(query.cursor, 'audit', order, ['ts', 'seq']) : null;
    const rows = await this.repo.list(
      {
        action: query.action,
        from: from === null ? undefined : formatMicros(from),
        to: to === null ? undefined : formatMicros(to),
      },
      order,
      after ? [after[0], after[1]] : null,
      limit + 1,
    );
    const more = rows.length > limit;
    const data = more ? rows.slice(0, limit) : rows;
    const last = data[data.length - 1];
    return { data, next_cursor: more ? encodeCursor('audit', order, [last.at, last.id]) : null };
  }
}
