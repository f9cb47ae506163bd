import 'reflect-metadata';
import {
  type CallHandler,
  type CanActivate,
  Controller,
  type ExecutionContext,
  HttpCode,
  type INestApplication,
  Module,
  type NestInterceptor,
  Post,
  Body,
  type Type,
  UseGuards,
  UseInterceptors,
} from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import type { FastifyInstance, FastifyReply } from 'fastify';
import { tap } from 'rxjs';
import type { AuthRequest, RouteAccess } from '../auth/auth.guard';
import type { AuthPrincipal } from '../auth/principal';
import { AllExceptionsFilter } from './all-exceptions.filter';
import { ApiError } from './api-error';
import { Principal, Scopes } from './decorators';
import { DirectRoute, type RouteAuthorizer, serveDirectRoutes } from './direct-route';

@Controller('t')
class DirectController {
  @Post('direct')
  @DirectRoute()
  @HttpCode(202)
  @Scopes('events:write')
  direct(@Body() body: unknown, @Principal() principal: AuthPrincipal): unknown {
    return { body, client: principal.clientId };
  }

  @Post('nest')
  @HttpCode(202)
  @Scopes('events:write')
  nest(@Body() body: unknown, @Principal() principal: AuthPrincipal): unknown {
    return { body, client: principal?.clientId };
  }

  @Post('fail')
  @DirectRoute()
  @HttpCode(202)
  @Scopes('events:write')
  fail(@Body() _body: unknown, @Principal() _principal: AuthPrincipal): Promise<unknown> {
    return Promise.reject(ApiError.validation([{ path: '/x', message: 'is wrong' }]));
  }
}

/** Stands for ScopedJwtGuard: "Bearer good" is client c1 with events:write; anything else is a 401. */
class FakeAuthorizer implements RouteAuthorizer {
  readonly accessed: { handler: string; scopes: string[] }[] = [];
  contexts = 0;

  routeAccess(handler: (...args: never[]) => unknown, controller: Type<unknown>): RouteAccess {
    const scopes = Reflect.getMetadata('the-eye:scopes', handler) as RouteAccess['scopes'];
    this.accessed.push({ handler: `${controller.name}.${handler.name}`, scopes });
    return { public: false, scopes };
  }

  authorize(request: AuthRequest, _access: RouteAccess, context: () => ExecutionContext): Promise<void> {
    if (request.headers.authorization !== 'Bearer good') {
      // The lazily built context is what passport would be given: it must hold the request.
      if (context().switchToHttp().getRequest() !== request) throw new Error('wrong context');
      this.contexts++;
      return Promise.reject(
        new ApiError(401, 'unauthorized', 'A valid bearer token is required', undefined, {
          'WWW-Authenticate': 'Bearer realm="test"',
        }),
      );
    }
    request.user = { clientId: 'c1', scopes: ['events:write'], expiresAt: Date.now() + 60_000 };
    return Promise.resolve();
  }
}

/** Marks every answer that went through Nest's per-request pipeline. */
class MarkingInterceptor implements NestInterceptor {
  intercept(context: ExecutionContext, next: CallHandler) {
    return next
      .handle()
      .pipe(
        tap(() => void context.switchToHttp().getResponse<FastifyReply>().header('x-nest-pipeline', 'yes')),
      );
  }
}

async function build(
  controller: Type<unknown>,
  authorizer = new FakeAuthorizer(),
): Promise<{ app: NestFastifyApplication; served: string[]; fastify: FastifyInstance }> {
  @Module({ controllers: [controller] })
  class TestModule {}
  const app = await NestFactory.create<NestFastifyApplication>(TestModule, new FastifyAdapter(), {
    logger: false,
    abortOnError: false,
  });
  const fastify = app.getHttpAdapter().getInstance();
  const served = serveDirectRoutes(fastify, (c) => app.get(c), authorizer, new AllExceptionsFilter());
  app.useGlobalInterceptors(new MarkingInterceptor());
  return { app, served, fastify };
}

describe('DirectRoute', () => {
  let app: INestApplication;
  let fastify: FastifyInstance;
  let served: string[];
  const authorizer = new FakeAuthorizer();

  beforeAll(async () => {
    ({ app, served, fastify } = await build(DirectController, authorizer));
    await app.init();
    await fastify.ready();
  });
  afterAll(() => app.close());

  const post = (url: string, token = 'good') =>
    fastify.inject({
      method: 'POST',
      url,
      payload: { a: 1 },
      headers: { authorization: `Bearer ${token}` },
    });

  it('serves only the marked routes, reading each route access once', () => {
    expect(served.sort()).toEqual(['POST /t/direct', 'POST /t/fail']);
    expect(authorizer.accessed).toEqual([
      { handler: 'DirectController.direct', scopes: ['events:write'] },
      { handler: 'DirectController.fail', scopes: ['events:write'] },
    ]);
  });

  it("answers with the method's result and @HttpCode, given the body and the principal, outside Nest's pipeline", async () => {
    const direct = await post('/t/direct');
    expect(direct.statusCode).toBe(202);
    expect(direct.json()).toEqual({ body: { a: 1 }, client: 'c1' });
    expect(direct.headers['x-nest-pipeline']).toBeUndefined();
    // The same method through Nest (no guard in this module, so no principal) is intercepted.
    const nest = await post('/t/nest');
    expect(nest.statusCode).toBe(202);
    expect(nest.headers['x-nest-pipeline']).toBe('yes');
  });

  it("answers the authorizer's and the method's errors with the filter's body and headers", async () => {
    const contextsBefore = authorizer.contexts;
    const denied = await post('/t/direct', 'bad');
    expect(denied.statusCode).toBe(401);
    expect(denied.json()).toEqual({ code: 'unauthorized', message: 'A valid bearer token is required' });
    expect(denied.headers['www-authenticate']).toBe('Bearer realm="test"');
    expect(authorizer.contexts).toBe(contextsBefore + 1);
    const failed = await post('/t/fail');
    expect(failed.statusCode).toBe(400);
    expect(failed.json()).toMatchObject({
      code: 'validation_failed',
      errors: [{ path: '/x', message: 'is wrong' }],
    });
  });

  it('leaves body parsing to Fastify: malformed JSON is still the contract 400', async () => {
    const res = await fastify.inject({
      method: 'POST',
      url: '/t/direct',
      payload: '{"a":',
      headers: { authorization: 'Bearer good', 'content-type': 'application/json' },
    });
    expect(res.statusCode).toBe(400);
  });

  it('refuses to start when a marked method lacks @HttpCode, takes other parameters or has enhancers of its own', async () => {
    @Controller('n')
    class NoCode {
      @Post()
      @DirectRoute()
      handle(@Body() body: unknown, @Principal() _p: AuthPrincipal): unknown {
        return body;
      }
    }
    @Controller('p')
    class WrongParams {
      @Post()
      @DirectRoute()
      @HttpCode(202)
      handle(@Body('field') body: unknown, @Principal() _p: AuthPrincipal): unknown {
        return body;
      }
    }
    @Controller('s')
    class Swapped {
      @Post()
      @DirectRoute()
      @HttpCode(202)
      handle(@Principal() _p: AuthPrincipal, @Body() body: unknown): unknown {
        return body;
      }
    }
    @Controller('g')
    @UseGuards(
      class implements CanActivate {
        canActivate = (): boolean => true;
      },
    )
    class Guarded {
      @Post()
      @DirectRoute()
      @HttpCode(202)
      handle(@Body() body: unknown, @Principal() _p: AuthPrincipal): unknown {
        return body;
      }
    }
    @Controller('i')
    class Intercepted {
      @Post()
      @DirectRoute()
      @HttpCode(202)
      @UseInterceptors(MarkingInterceptor)
      handle(@Body() body: unknown, @Principal() _p: AuthPrincipal): unknown {
        return body;
      }
    }
    for (const [controller, message] of [
      [NoCode, /NoCode\.handle needs @HttpCode/],
      [Guarded, /Guarded\.handle would skip its guards/],
      [Intercepted, /Intercepted\.handle would skip its interceptors/],
      [WrongParams, /WrongParams\.handle must take exactly/],
      [Swapped, /Swapped\.handle must take exactly/],
    ] as const) {
      const built = await build(controller);
      await expect(built.app.init()).rejects.toThrow(message);
      await built.app.close().catch(() => undefined);
    }
  });
});
