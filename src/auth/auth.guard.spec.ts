import 'reflect-metadata';
import type { ExecutionContext, Type } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { JwtService } from '@nestjs/jwt';
import { createSecretKey } from 'node:crypto';
import { ApiError } from '../common/api-error';
import { Public, PublicWhen, Scopes } from './auth.decorators';
import type { AppConfig } from '../config/config';
import { AuthGuard } from './auth.guard';
import type { ClientState, ClientStateService } from './client-state.service';
import type { JwtKeyService } from './jwt-key.service';
import type { AuthPrincipal } from './principal';

const KEY = 'unit-test-jwt-key-0123456789-0123456789';

/** A mock that throws on any member the test did not give it. */
function strictMock<T extends object>(members: Partial<T>): T {
  return new Proxy(members, {
    get(target, prop) {
      if (prop in target) return target[prop as keyof typeof target];
      if (prop === 'then') return undefined;
      throw new Error(`unexpected use of ${String(prop)}`);
    },
  }) as T;
}

class Routes {
  @Scopes('events:write')
  write(): void {}

  @Scopes('events:read', 'events:write')
  readOrWrite(): void {}

  adminOnly(): void {}

  @Public()
  open(): void {}

  @PublicWhen('metricsPublic')
  metrics(): void {}
}

@Scopes('events:read')
class ReaderRoutes {
  list(): void {}
}

function contextFor(
  handler: () => void,
  headers: Record<string, unknown>,
  controller: new () => unknown = Routes,
): { context: ExecutionContext; request: { headers: Record<string, unknown>; user?: AuthPrincipal } } {
  const request: { headers: Record<string, unknown>; user?: AuthPrincipal } = { headers };
  const context = strictMock<ExecutionContext>({
    getHandler: () => handler,
    getClass: <T>() => controller as Type<T>,
    switchToHttp: () =>
      strictMock<ReturnType<ExecutionContext['switchToHttp']>>({ getRequest: <T>() => request as T }),
  });
  return { context, request };
}

const sign = (
  claims: object,
  options: { key?: string; algorithm?: 'HS256' | 'HS512'; expiresIn?: number } = {},
) =>
  new JwtService().sign(
    { jti: 'j', ...claims },
    {
      secret: options.key ?? KEY,
      algorithm: options.algorithm ?? 'HS256',
      expiresIn: options.expiresIn ?? 600,
    },
  );

async function failure(promise: Promise<unknown>): Promise<ApiError> {
  try {
    await promise;
  } catch (err) {
    if (err instanceof ApiError) return err;
    throw err;
  }
  throw new Error('expected a failure');
}

describe(AuthGuard.name, () => {
  let states: Map<string, ClientState>;
  let state: jest.Mock<Promise<ClientState>, [string]>;
  let sut: AuthGuard;

  function build(config: Partial<AppConfig> = {}): AuthGuard {
    const keys = strictMock<JwtKeyService>({ verifyKey: createSecretKey(Buffer.from(KEY)) });
    const clientState = strictMock<ClientStateService>({ state });
    return new AuthGuard(
      new Reflector(),
      clientState,
      keys,
      strictMock<AppConfig>({ metricsPublic: false, ...config }),
    );
  }

  beforeEach(() => {
    states = new Map([
      ['writer', { active: true, secretGeneration: 0, scopes: ['events:write'] }],
      ['rotated', { active: true, secretGeneration: 2, scopes: ['events:write'] }],
      ['admin', { active: true, secretGeneration: 0, scopes: ['admin'] }],
    ]);
    state = jest.fn((id: string) =>
      Promise.resolve(states.get(id) ?? { active: false, secretGeneration: -1, scopes: [] }),
    );
    sut = build();
  });

  afterEach(() => jest.restoreAllMocks());

  it('lets public routes through without a token and without looking at any client', async () => {
    const { context, request } = contextFor(Routes.prototype.open, {});
    expect(await sut.canActivate(context)).toBe(true);
    expect(request.user).toBeUndefined();
    expect(state).not.toHaveBeenCalled();
  });

  it('opens a @PublicWhen route only when its configuration flag is on', async () => {
    const closed = await failure(sut.canActivate(contextFor(Routes.prototype.metrics, {}).context));
    expect(closed.status).toBe(401);
    const open = build({ metricsPublic: true });
    expect(await open.canActivate(contextFor(Routes.prototype.metrics, {}).context)).toBe(true);
  });

  it.each([
    ['no header', undefined],
    ['another scheme', `Basic ${Buffer.from('a:b').toString('base64')}`],
    ['garbage', 'Bearer not-a-jwt'],
    ['a wrong key', `Bearer ${sign({ sub: 'writer', scope: 'events:write' }, { key: 'x'.repeat(40) })}`],
    ['HS512', `Bearer ${sign({ sub: 'writer', scope: 'events:write' }, { algorithm: 'HS512' })}`],
    ['an expired token', `Bearer ${sign({ sub: 'writer', scope: 'events:write' }, { expiresIn: -10 })}`],
    ['no subject', `Bearer ${sign({ scope: 'events:write' })}`],
    ['a non-integer generation', `Bearer ${sign({ sub: 'writer', scope: 'events:write', gen: 'x' })}`],
  ])('answers 401 with WWW-Authenticate for %s', async (_what, authorization) => {
    const err = await failure(sut.canActivate(contextFor(Routes.prototype.write, { authorization }).context));
    expect(err.status).toBe(401);
    expect(err.code).toBe('unauthorized');
    expect(err.headers).toEqual({ 'WWW-Authenticate': 'Bearer realm="the-eye"' });
  });

  it('refuses alg "none"', async () => {
    const b64 = (v: object): string => Buffer.from(JSON.stringify(v)).toString('base64url');
    const exp = Math.floor(Date.now() / 1000) + 600;
    const none = `${b64({ alg: 'none', typ: 'JWT' })}.${b64({ sub: 'admin', scope: 'admin', exp })}.`;
    expect((await failure(sut.authenticate(`Bearer ${none}`, ['admin']))).status).toBe(401);
  });

  it('sets the principal from a valid token', async () => {
    const token = sign({ sub: 'writer', scope: 'events:write bogus', gen: 0 });
    const { context, request } = contextFor(Routes.prototype.write, { authorization: `Bearer ${token}` });
    expect(await sut.canActivate(context)).toBe(true);
    expect(request.user).toEqual({
      clientId: 'writer',
      scopes: ['events:write'],
      expiresAt: expect.any(Number),
    });
    expect(request.user?.expiresAt).toBeGreaterThan(Date.now());
  });

  it("verifies a token's signature once, but checks its client on every request", async () => {
    const verify = jest.spyOn(JwtService.prototype, 'verify');
    const header = `Bearer ${sign({ sub: 'writer', scope: 'events:write' })}`;
    for (let i = 0; i < 3; i++) await sut.authenticate(header, ['events:write']);
    expect(verify).toHaveBeenCalledTimes(1);
    expect(state).toHaveBeenCalledTimes(3);
    expect(state).toHaveBeenLastCalledWith('writer');
  });

  it('refuses a verified token at once when its client is revoked', async () => {
    const header = `Bearer ${sign({ sub: 'writer', scope: 'events:write' })}`;
    await sut.authenticate(header, ['events:write']);
    states.set('writer', { active: false, secretGeneration: 0, scopes: ['events:write'] });
    expect((await failure(sut.authenticate(header, ['events:write']))).status).toBe(401);
  });

  it("refuses a verified token at once when its client's secret is rotated", async () => {
    const header = `Bearer ${sign({ sub: 'writer', scope: 'events:write', gen: 0 })}`;
    await sut.authenticate(header, ['events:write']);
    states.set('writer', { active: true, secretGeneration: 1, scopes: ['events:write'] });
    expect((await failure(sut.authenticate(header, ['events:write']))).status).toBe(401);
  });

  it('accepts the current generation; a token without one stands for generation 0', async () => {
    const current = `Bearer ${sign({ sub: 'rotated', scope: 'events:write', gen: 2 })}`;
    expect((await sut.authenticate(current, ['events:write'])).clientId).toBe('rotated');
    const older = `Bearer ${sign({ sub: 'rotated', scope: 'events:write' })}`;
    expect((await failure(sut.authenticate(older, ['events:write']))).status).toBe(401);
    const legacy = `Bearer ${sign({ sub: 'writer', scope: 'events:write' })}`;
    expect((await sut.authenticate(legacy, ['events:write'])).clientId).toBe('writer');
  });

  it("cuts a verified token's scopes at once to those its client holds now", async () => {
    const admin = `Bearer ${sign({ sub: 'admin', scope: 'admin', gen: 0 })}`;
    expect((await sut.authenticate(admin, ['admin'])).scopes).toEqual(['admin']);
    // Demoted: the token's `admin` now stands for what the client has, no more.
    states.set('admin', { active: true, secretGeneration: 0, scopes: ['events:read'] });
    expect((await failure(sut.authenticate(admin, ['admin']))).status).toBe(403);
    expect((await failure(sut.authenticate(admin, ['events:write']))).status).toBe(403);
    expect((await sut.authenticate(admin, ['events:read'])).scopes).toEqual(['events:read']);
    // A plain scope the client lost is dropped; one it gained is not added to an old token.
    const both = `Bearer ${sign({ sub: 'writer', scope: 'events:write events:read', gen: 0 })}`;
    states.set('writer', { active: true, secretGeneration: 0, scopes: ['events:read', 'admin'] });
    expect((await sut.authenticate(both, ['events:read'])).scopes).toEqual(['events:write', 'events:read']);
    states.set('writer', { active: true, secretGeneration: 0, scopes: ['events:read'] });
    expect((await failure(sut.authenticate(both, ['events:write']))).status).toBe(403);
    expect((await sut.authenticate(both, ['events:read'])).scopes).toEqual(['events:read']);
  });

  it('refuses an unknown client', async () => {
    const header = `Bearer ${sign({ sub: 'ghost', scope: 'admin' })}`;
    expect((await failure(sut.authenticate(header, ['admin']))).status).toBe(401);
  });

  it('answers 403 when the token lacks the scope; admin holds every scope; no @Scopes() means admin only', async () => {
    const writer = `Bearer ${sign({ sub: 'writer', scope: 'events:write' })}`;
    const admin = `Bearer ${sign({ sub: 'admin', scope: 'admin' })}`;
    const forbidden = await failure(
      sut.canActivate(
        contextFor(ReaderRoutes.prototype.list, { authorization: writer }, ReaderRoutes).context,
      ),
    );
    expect({ status: forbidden.status, code: forbidden.code }).toEqual({ status: 403, code: 'forbidden' });
    expect(
      await sut.canActivate(contextFor(Routes.prototype.readOrWrite, { authorization: writer }).context),
    ).toBe(true);
    expect(
      (
        await failure(
          sut.canActivate(contextFor(Routes.prototype.adminOnly, { authorization: writer }).context),
        )
      ).status,
    ).toBe(403);
    for (const handler of [Routes.prototype.adminOnly, Routes.prototype.write, ReaderRoutes.prototype.list]) {
      expect(await sut.canActivate(contextFor(handler, { authorization: admin }, ReaderRoutes).context)).toBe(
        true,
      );
    }
  });

  it('verifies again once a remembered token has expired', async () => {
    const verify = jest.spyOn(JwtService.prototype, 'verify');
    const now = Date.now();
    const clock = jest.spyOn(Date, 'now').mockReturnValue(now);
    const header = `Bearer ${sign({ sub: 'writer', scope: 'events:write' }, { expiresIn: 60 })}`;
    await sut.authenticate(header, ['events:write']);
    clock.mockReturnValue(now + 61_000);
    // jsonwebtoken reads the clock through Date.now as well: the token is now expired.
    expect((await failure(sut.authenticate(header, ['events:write']))).status).toBe(401);
    expect(verify).toHaveBeenCalledTimes(2);
  });
});
