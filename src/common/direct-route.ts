import type { ExecutionContext, Type } from '@nestjs/common';
import {
  CUSTOM_ROUTE_ARGS_METADATA,
  EXCEPTION_FILTERS_METADATA,
  GUARDS_METADATA,
  HTTP_CODE_METADATA,
  INTERCEPTORS_METADATA,
  PIPES_METADATA,
  ROUTE_ARGS_METADATA,
} from '@nestjs/common/constants';
import { RouteParamtypes } from '@nestjs/common/enums/route-paramtypes.enum';
import { ExecutionContextHost } from '@nestjs/core/helpers/execution-context-host';
import { RouteConfig } from '@nestjs/platform-fastify';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { AuthRequest, RouteAccess } from '../auth/auth.guard';
import { principalOf } from './decorators';

const DIRECT_ROUTE = 'theEyeDirectRoute';

interface DirectRouteTarget {
  controller: Type<unknown>;
  method: string;
}

type Handler = (...args: unknown[]) => unknown;

/**
 * Serve this controller method straight from its Fastify route, without Nest's per-request
 * pipeline (execution context, guard and pipe consumers, parameter factories, response
 * controller): at 5,000 single events/s that pipeline was a sixth of the service's CPU and a
 * fifth of its allocation (issue 5). What stays the same: Fastify parses the body (limits,
 * content types, errors as before), Nest registers and documents the route (Swagger), the global
 * guard's checks run (`ScopedJwtGuard.authorize`, same token cache, scopes and 401/403) and errors
 * are answered by the global filter's mapping. What is skipped: global pipes and interceptors
 * (there are none for these bodies: the ValidationPipe ignores untyped ones).
 *
 * The method must take exactly `(@Body() body, @Principal() principal)` and carry @HttpCode(), and
 * neither it nor its controller may declare guards, pipes, interceptors or filters of their own
 * (they would be skipped): `serveDirectRoutes` refuses to start otherwise.
 */
export function DirectRoute(): MethodDecorator {
  return (target, key, descriptor) => {
    const direct: DirectRouteTarget = {
      controller: target.constructor as Type<unknown>,
      method: String(key),
    };
    RouteConfig({ [DIRECT_ROUTE]: direct })(target, key, descriptor);
  };
}

/** The global guard's two halves a direct route needs (ScopedJwtGuard). */
export interface RouteAuthorizer {
  routeAccess(handler: Handler, controller: Type<unknown>): RouteAccess;
  authorize(request: AuthRequest, access: RouteAccess, context: () => ExecutionContext): Promise<void>;
}

/** The global exception filter's answer (AllExceptionsFilter). */
export interface ErrorResponder {
  send(reply: FastifyReply, exception: unknown): void;
}

/**
 * Gives every @DirectRoute() its direct handler as Nest registers it. Call after NestFactory.create
 * and before init()/listen(), which register the routes. Returns the list of routes served so
 * (filled in as they are registered).
 */
export function serveDirectRoutes(
  fastify: FastifyInstance,
  resolve: (controller: Type<unknown>) => unknown,
  guard: RouteAuthorizer,
  errors: ErrorResponder,
): string[] {
  const served: string[] = [];
  fastify.addHook('onRoute', (route) => {
    const target = (route.config as Record<string, unknown> | undefined)?.[DIRECT_ROUTE] as
      DirectRouteTarget | undefined;
    if (!target) return;
    route.handler = directHandler(target, resolve(target.controller), guard, errors);
    served.push(`${String(route.method)} ${route.url}`);
  });
  return served;
}

function directHandler(
  { controller, method }: DirectRouteTarget,
  instance: unknown,
  guard: RouteAuthorizer,
  errors: ErrorResponder,
): (request: FastifyRequest, reply: FastifyReply) => Promise<FastifyReply> {
  const where = `${controller.name}.${method}`;
  const fn = (instance as Record<string, unknown>)[method];
  if (typeof fn !== 'function')
    throw new Error(`@DirectRoute() ${where}: not a method of the resolved instance`);
  const handler = fn as Handler;
  checkParameters(controller, method, where);
  checkNoEnhancers(controller, handler, where);
  const status = Reflect.getMetadata(HTTP_CODE_METADATA, handler) as number | undefined;
  if (status === undefined) throw new Error(`@DirectRoute() ${where} needs @HttpCode()`);
  const access = guard.routeAccess(handler, controller);
  return async (request, reply) => {
    try {
      const req = request as FastifyRequest & AuthRequest;
      if (!access.public) {
        await guard.authorize(
          req,
          access,
          () => new ExecutionContextHost([request, reply], controller, handler),
        );
      }
      const result = await handler.call(instance, request.body, req.user);
      return reply.status(status).send(result);
    } catch (err) {
      errors.send(reply, err);
      return reply;
    }
  };
}

/** The direct handler passes (body, principal): the method's parameters must be exactly those. */
function checkParameters(controller: Type<unknown>, method: string, where: string): void {
  const args = (Reflect.getMetadata(ROUTE_ARGS_METADATA, controller, method) ?? {}) as Record<
    string,
    { index: number; data?: unknown; pipes?: unknown[]; factory?: unknown }
  >;
  const body = args[`${RouteParamtypes.BODY}:0`];
  const principal = Object.entries(args).find(([key]) =>
    key.endsWith(`${CUSTOM_ROUTE_ARGS_METADATA}:1`),
  )?.[1];
  const ok =
    Object.keys(args).length === 2 &&
    body !== undefined &&
    body.data === undefined &&
    !body.pipes?.length &&
    principal?.factory === principalOf &&
    principal.data === undefined &&
    !principal.pipes?.length;
  if (!ok)
    throw new Error(`@DirectRoute() ${where} must take exactly (@Body() body, @Principal() principal)`);
}

/** Route- or controller-level enhancers would be skipped by the direct handler: refuse them. */
function checkNoEnhancers(controller: Type<unknown>, handler: Handler, where: string): void {
  const kinds = [
    [GUARDS_METADATA, 'guards'],
    [PIPES_METADATA, 'pipes'],
    [INTERCEPTORS_METADATA, 'interceptors'],
    [EXCEPTION_FILTERS_METADATA, 'filters'],
  ] as const;
  for (const [key, kind] of kinds) {
    const declared = [controller, handler].some(
      (target) => ((Reflect.getMetadata(key, target) as unknown[] | undefined) ?? []).length > 0,
    );
    if (declared)
      throw new Error(`@DirectRoute() ${where} would skip its ${kind}: a direct route takes none`);
  }
}
