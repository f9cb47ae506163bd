import { RouteConfig, type NestFastifyApplication } from '@nestjs/platform-fastify';
import type { FastifyRequest } from 'fastify';

const ACCEPTS_FORM = 'theEyeAcceptsForm';

/**
 * Marks a route that also takes `application/x-www-form-urlencoded` bodies (the OAuth 2.0 token
 * route: Swagger UI and OAuth clients post forms there). Every other route takes JSON only.
 */
export const AcceptsForm = (): MethodDecorator => RouteConfig({ [ACCEPTS_FORM]: true });

/** The error Fastify raises for a content type no parser takes, so one 415 answer covers both. */
function unsupportedMediaType(): Error {
  return Object.assign(new Error('Unsupported Media Type'), {
    code: 'FST_ERR_CTP_INVALID_MEDIA_TYPE',
    statusCode: 415,
  });
}

/**
 * Form bodies only where @AcceptsForm() says so. Without this, Nest's adapter parses forms on
 * every route, and a form posted to /v1/events gets "/a is not an event field" instead of a 415
 * that says to send JSON. Registering a parser ourselves stops the adapter from adding its own
 * JSON parser too; Fastify's built-in one (the same default parser) then takes JSON.
 * Call after NestFactory.create and before init().
 */
export function registerFormParser(app: NestFastifyApplication): void {
  app.useBodyParser('application/x-www-form-urlencoded', undefined, (request, body, done) => {
    const config = (request as FastifyRequest).routeOptions?.config as unknown as
      Record<string, unknown> | undefined;
    if (config?.[ACCEPTS_FORM] !== true) {
      done(unsupportedMediaType());
      return;
    }
    done(null, Object.fromEntries(new URLSearchParams(body.toString())));
  });
}
