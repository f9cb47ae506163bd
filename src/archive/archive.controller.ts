import { Body, Controller, Get, Header, HttpCode, Inject, Post } from '@nestjs/common';
import { ApiBearerAuth, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import type { AuthPrincipal } from '../auth/principal';
import { Principal, Scopes } from '../auth/auth.decorators';
import { ApiError } from '../common/api-error';
import { ApiErrors } from '../common/swagger';
import { APP_CONFIG, type AppConfig } from '../config/config';
import { ArchivePassRequestDto, ArchivePassResultDto, StorageDto } from './archive.dto';
import { addDays, ArchivePassService } from './archive-pass.service';
import { ArchiveStorageService } from './archive-storage.service';

@ApiTags('operations')
@ApiBearerAuth()
@Controller('v1/ops')
export class ArchiveController {
  constructor(
    private readonly pass: ArchivePassService,
    private readonly storage: ArchiveStorageService,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  @Post('archive')
  @HttpCode(200)
  @Scopes('admin')
  @ApiOperation({
    summary: 'Run the archive/retention pass now (admin)',
    description:
      'Moves each closed UTC day older than EVENTS_HOT_DAYS from PostgreSQL to a Parquet file of the archive ' +
      '(or every day before `before`), deletes what is older than EVENTS_RETENTION_DAYS and REJECTED_RETENTION_DAYS, ' +
      'and forgets deduplication keys older than DEDUPE_WINDOW_DAYS. Reads go on meanwhile and see each event once. ' +
      'Answers when the pass has finished; a pass that changed something is audited (`archive.pass`).',
  })
  @ApiOkResponse({ type: ArchivePassResultDto })
  @ApiErrors(400, 401, 403, { status: 409, examples: ['archive_pass_running'] })
  async archive(
    @Body() body: ArchivePassRequestDto,
    @Principal() admin: AuthPrincipal,
  ): Promise<ArchivePassResultDto> {
    const before = body?.before;
    if (before !== undefined) {
      const tomorrow = addDays(new Date().toISOString().slice(0, 10), 1);
      if (Number.isNaN(Date.parse(`${before}T00:00:00Z`)) || before > tomorrow) {
        throw ApiError.validation([
          { path: '/before', message: `before must be a real day, at most ${tomorrow}` },
        ]);
      }
    }
    const result = await this.pass.run({ actor: admin.clientId, before });
    if (result === null) {
      throw new ApiError(409, 'conflict', 'An archive pass is already running; retry when it has finished');
    }
    return result;
  }

  @Get('storage')
  @Scopes('admin')
  @Header('Cache-Control', 'no-store')
  @ApiOperation({
    summary: 'Days, events and bytes of each storage tier (admin)',
    description: 'The hot tier is PostgreSQL’s day partitions; the archive, the registered Parquet files.',
  })
  @ApiOkResponse({ type: StorageDto })
  @ApiErrors(401, 403)
  storageOverview(): Promise<StorageDto> {
    return this.storage.overview(this.config);
  }
}
