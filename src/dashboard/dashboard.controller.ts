import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { Controller, Get, Header, Param, Res } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import { ApiError } from '../common/api-error';
import { Public } from '../auth/auth.decorators';

/**
 * The page and its assets are static and public: the data comes from the API with the token the
 * user signs in with. Asset names carry a content hash, so they are cached for a year (immutable);
 * the page itself is revalidated on every load so a new build is picked up at once.
 */
// The build output of the dashboard's own package (packages/dashboard, `npm run build` builds it);
// the same place from src/dashboard (ts-jest) and dist/dashboard (node).
const ROOT = join(__dirname, '..', '..', 'packages', 'dashboard', 'dist');
const ASSETS = join(ROOT, 'assets');

// Nothing leaves the machine: scripts, styles, fetches and images from this origin only.
const CSP =
  "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; " +
  "base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

@ApiExcludeController()
@Public()
@Controller('dashboard')
export class DashboardController {
  /** Read once: the build writes new names, never new content under an old name. */
  private readonly assets = new Set(existsSync(ASSETS) ? readdirSync(ASSETS) : []);

  @Get()
  @Header('cache-control', 'no-cache')
  @Header('content-security-policy', CSP)
  @Header('x-content-type-options', 'nosniff')
  @Header('referrer-policy', 'no-referrer')
  page(@Res() reply: FastifyReply): FastifyReply {
    if (!existsSync(join(ROOT, 'index.html'))) {
      throw ApiError.notFound('The dashboard is not built: run `npm run build` (npm start does it).');
    }
    return reply.sendFile('index.html', ROOT, { cacheControl: false, lastModified: false });
  }

  @Get('assets/:file')
  asset(@Param('file') file: string, @Res() reply: FastifyReply): FastifyReply {
    if (!this.assets.has(file)) throw ApiError.notFound(`No dashboard asset ${file}`);
    return reply
      .header('x-content-type-options', 'nosniff')
      .sendFile(file, ASSETS, { immutable: true, maxAge: '365d' });
  }
}
