import { Injectable } from '@nestjs/common';
import { ApiError } from '../common/api-error';
import { type FunnelRequestDto, type FunnelResponseDto, WITHIN_RE } from './funnels.dto';
import { FunnelsRepository } from './funnels.repository';
import { HeavyReads } from './heavy-reads';
import { timeRange } from './time-range';

const UNIT_MS: Record<string, number> = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };
const MAX_WITHIN_MS = 30 * 86_400_000;

@Injectable()
export class FunnelsService {
  constructor(
    private readonly repo: FunnelsRepository,
    private readonly heavy: HeavyReads,
  ) {}

  /** `clientId`: the analyst asking, whose concurrent heavy reads are capped (HeavyReads). */
  async funnel(body: FunnelRequestDto, clientId: string): Promise<FunnelResponseDto> {
    const m = WITHIN_RE.exec(body.within);
    const withinMs = m ? Number(m[1]) * UNIT_MS[m[2]] : NaN;
    if (!(withinMs <= MAX_WITHIN_MS)) {
      throw ApiError.validation([{ path: '/within', message: 'within must be at most 30d' }]);
    }
    const range = timeRange(body);
    const counts = await this.heavy.run(clientId, () =>
      this.repo.sessionsPerStep({
        steps: body.steps,
        withinMs,
        from: range.from!,
        to: range.to!,
        clientId: body.client_id,
      }),
    );
    return {
      steps: body.steps.map((s, i) => ({ category: s.category, name: s.name, sessions: counts[i] })),
    };
  }
}
