import { Controller, Get, HttpCode, Inject } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import type Redis from 'ioredis';
import { ApiError } from '../common/api-error';
import { Public } from '../auth/auth.decorators';
import { ApiErrors } from '../common/swagger';
import { REDIS } from '../redis/redis.module';
import { HealthDto, ReadyDto } from './health.dto';
import { HealthRepository } from './health.repository';
import { withTimeout } from '../common/with-timeout';

const CHECK_TIMEOUT_MS = 1_500;

@ApiTags('operations')
@Controller()
export class HealthController {
  constructor(
    private readonly database: HealthRepository,
    @Inject(REDIS) private readonly redis: Redis,
  ) {}

  @Public()
  @Get('health')
  @ApiOperation({ summary: 'Liveness: the process answers' })
  @ApiOkResponse({ type: HealthDto })
  health(): HealthDto {
    return { status: 'ok' };
  }

  @Public()
  @Get('ready')
  @HttpCode(200)
  @ApiOperation({ summary: 'Readiness: PostgreSQL and Redis answer (503 otherwise)' })
  @ApiOkResponse({ type: ReadyDto })
  @ApiErrors({ status: 503, examples: ['service_unavailable'] })
  async ready(): Promise<ReadyDto> {
    const [postgres, redis] = await Promise.all([
      withTimeout(this.database.ping(), CHECK_TIMEOUT_MS).then(
        () => 'up' as const,
        () => 'down' as const,
      ),
      withTimeout(this.redis.ping(), CHECK_TIMEOUT_MS).then(
        () => 'up' as const,
        () => 'down' as const,
      ),
    ]);
    if (postgres === 'down' || redis === 'down') {
      throw ApiError.unavailable('service_unavailable', `Not ready: postgres ${postgres}, redis ${redis}`, 5);
    }
    return { status: 'ready', postgres, redis };
  }
}
