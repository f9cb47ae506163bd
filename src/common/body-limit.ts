import { RouteConfig } from '@nestjs/platform-fastify';
import type { FastifyInstance, FastifyReply } from 'fastify';
import { bodyTooLarge } from './all-exceptions.filter';

const BODY_LIMIT = 'theEyeBodyLimit';

/** The global exception filter's answer (AllExceptionsFilter.send). */
interface ErrorResponder {
  send(reply: FastifyReply, exception: unknown): void;
}

interface BodyLimitConfig {
  bytes: number;
  /** Status of the answer to a larger body (413 unless the route's protocol wants another). */
  status: number;
}

/**
 * A route's own body limit, below the global MAX_BODY_BYTES (Fastify's per-route `bodyLimit`,
 * which Nest's route decorators cannot set). `status` replaces 413 for protocols that expect
 * another answer (Segment SDKs treat 400 as "drop this batch, do not retry").
 */
export function BodyLimit(bytes: number, status = 413): MethodDecorator {
  return RouteConfig(bodyLimitConfig(bytes, status));
}

/**
 * The route config of @BodyLimit(), for a route that needs other route config too: Nest keeps only
 * the last RouteConfig() of a method, so such a route passes one object with both.
 */
export function bodyLimitConfig(bytes: number, status = 413): Record<string, unknown> {
  const config: BodyLimitConfig = { bytes, status };
  return { [BODY_LIMIT]: config };
}

/**
 * Gives every @BodyLimit() route its limit as Nest registers it: call after NestFactory.create
 * and before init()/listen(). Errors before the handler (body too large, bad JSON) are answered
 * by `errors`, as the global filter would, with the route's status for an oversized body.
 */
export function applyBodyLimits(fastify: FastifyInstance, errors: ErrorResponder): void {
  fastify.addHook('onRoute', (route) => {
    const limit = (route.config as Record<string, unknown> | undefined)?.[BODY_LIMIT] as
      BodyLimitConfig | undefined;
    if (!limit) return;
    route.bodyLimit = limit.bytes;
    route.errorHandler = (err, _request, reply) => {
      const tooLarge = (err as { code?: string }).code === 'FST_ERR_CTP_BODY_TOO_LARGE';
      if (tooLarge) {
        void reply.status(limit.status).send(bodyTooLarge(limit.bytes));
        return;
      }
      errors.send(reply, err);
    };
  });
}
