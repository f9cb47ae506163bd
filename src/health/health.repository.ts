import { Inject, Injectable } from '@nestjs/common';
import type { Pool } from 'pg';
import { PG_POOL } from '../prisma/pg-pool';

/** The readiness probe's one statement, on the pool the worker and the routes use. */
@Injectable()
export class HealthRepository {
  constructor(@Inject(PG_POOL) private readonly pool: Pool) {}

  /** Resolves when PostgreSQL answers. */
  async ping(): Promise<void> {
    await this.pool.query('SELECT 1');
  }
}
