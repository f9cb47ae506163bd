import { JwtService } from '@nestjs/jwt';
import { ApiError } from '../common/api-error';
import { loadConfig } from '../config/config';
import type { ClientsService } from './clients.service';
import type { CredentialThrottle } from './credential-throttle.service';
import type { JwtKeyService } from './jwt-key.service';
import { TokenService } from './token.service';

const KEY = 'k'.repeat(40);
const SOURCE = '203.0.113.7';

function setup(client: { clientId: string; scopes: string[]; secretGeneration: number } | null) {
  const clients = { authenticate: jest.fn().mockResolvedValue(client) };
  const throttle = {
    attempt: jest.fn().mockResolvedValue(undefined),
    uncount: jest.fn().mockResolvedValue(undefined),
  };
  const jwt = new JwtService();
  const sut = new TokenService(
    loadConfig({ JWT_EXPIRES_IN: '600' }),
    clients as unknown as ClientsService,
    jwt,
    { key: KEY } as JwtKeyService,
    throttle as unknown as CredentialThrottle,
  );
  return { sut, clients, throttle, jwt };
}

async function rejection(promise: Promise<unknown>): Promise<ApiError> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(ApiError);
  return err as ApiError;
}

describe(TokenService.name, () => {
  describe('issue', () => {
    it("signs an HS256 token with the client's scopes, counting the attempt first and taking it back", async () => {
      const { sut, clients, throttle, jwt } = setup({
        clientId: 'app',
        scopes: ['events:write'],
        secretGeneration: 3,
      });
      const res = await sut.issue({ clientId: 'app', clientSecret: 's3cret' }, SOURCE);
      expect(throttle.attempt).toHaveBeenCalledTimes(1);
      expect(throttle.attempt).toHaveBeenCalledWith('app', SOURCE);
      expect(clients.authenticate).toHaveBeenCalledTimes(1);
      expect(clients.authenticate).toHaveBeenCalledWith('app', 's3cret', SOURCE);
      expect(throttle.attempt.mock.invocationCallOrder[0]).toBeLessThan(
        clients.authenticate.mock.invocationCallOrder[0],
      );
      // A success is not a failure: the attempt is taken back.
      expect(throttle.uncount).toHaveBeenCalledWith('app', SOURCE);
      expect(res).toEqual({
        access_token: expect.any(String),
        token_type: 'Bearer',
        expires_in: 600,
        scope: 'events:write',
      });
      const claims = jwt.verify<Record<string, unknown>>(res.access_token, {
        secret: KEY,
        algorithms: ['HS256'],
      });
      expect(claims).toEqual({
        sub: 'app',
        scope: 'events:write',
        gen: 3,
        jti: expect.stringMatching(/^[0-9a-f-]{36}$/),
        iat: expect.any(Number),
        exp: (claims.iat as number) + 600,
      });
    });

    it('keeps a wrong secret counted (against the pair and the source), and answers 401 invalid_client', async () => {
      const { sut, throttle } = setup(null);
      const err = await rejection(sut.issue({ clientId: 'app', clientSecret: 'wrong' }, SOURCE));
      expect({ status: err.status, code: err.code, headers: err.headers }).toEqual({
        status: 401,
        code: 'invalid_client',
        headers: { 'WWW-Authenticate': 'Basic realm="the-eye"' },
      });
      expect(throttle.attempt).toHaveBeenCalledWith('app', SOURCE);
      expect(throttle.uncount).not.toHaveBeenCalled();
    });

    it('takes back an attempt that was never tried (hashing line full)', async () => {
      const { sut, clients, throttle } = setup(null);
      clients.authenticate.mockRejectedValue(ApiError.rateLimited('line full', 1));
      const err = await rejection(sut.issue({ clientId: 'app', clientSecret: 'x' }, SOURCE));
      expect(err.status).toBe(429);
      expect(throttle.uncount).toHaveBeenCalledWith('app', SOURCE);
    });

    it('refuses before any secret check while the throttle says so', async () => {
      const { sut, clients, throttle } = setup({ clientId: 'app', scopes: ['admin'], secretGeneration: 1 });
      throttle.attempt.mockRejectedValue(ApiError.rateLimited('too many', 30));
      const err = await rejection(sut.issue({ clientId: 'app', clientSecret: 'x' }, SOURCE));
      expect(err.status).toBe(429);
      expect(clients.authenticate).not.toHaveBeenCalled();
      expect(throttle.uncount).not.toHaveBeenCalled();
    });

    it('narrows to the requested scopes; an admin may ask for any scope', async () => {
      const { sut } = setup({ clientId: 'ops', scopes: ['admin'], secretGeneration: 1 });
      const res = await sut.issue(
        { clientId: 'ops', clientSecret: 'x', scope: ' events:read  events:read ' },
        SOURCE,
      );
      expect(res.scope).toBe('events:read');
    });

    it('refuses scopes the client was not granted, naming them', async () => {
      const { sut } = setup({ clientId: 'app', scopes: ['events:write'], secretGeneration: 1 });
      const err = await rejection(
        sut.issue({ clientId: 'app', clientSecret: 'x', scope: 'events:write admin nope' }, SOURCE),
      );
      expect({ status: err.status, code: err.code, message: err.message, errors: err.errors }).toEqual({
        status: 400,
        code: 'bad_request',
        message: 'Scopes not granted to this client: admin nope',
        errors: [{ path: '/scope', message: 'invalid_scope' }],
      });
    });
  });

  describe('credentialsFrom', () => {
    const { sut } = setup(null);

    it('reads JSON or form fields', () => {
      expect(
        sut.credentialsFrom({ client_id: 'a', client_secret: 'b', scope: 'events:read' }, undefined),
      ).toEqual({
        clientId: 'a',
        clientSecret: 'b',
        scope: 'events:read',
      });
    });

    it('reads HTTP Basic, form-urlencoded parts included, before the body', () => {
      const basic = `Basic ${Buffer.from('my%20app:p%3Ass+word').toString('base64')}`;
      expect(sut.credentialsFrom({ client_id: 'ignored', client_secret: 'ignored' }, basic)).toEqual({
        clientId: 'my app',
        clientSecret: 'p:ss word',
        scope: undefined,
      });
    });

    it('answers 401 to a Basic credential without a colon', () => {
      expect(() => sut.credentialsFrom({}, `Basic ${Buffer.from('nocolon').toString('base64')}`)).toThrow(
        expect.objectContaining({ status: 401, code: 'invalid_client' }),
      );
    });

    it('names each missing field', () => {
      expect(() => sut.credentialsFrom({ client_id: '' }, undefined)).toThrow(
        expect.objectContaining({
          status: 400,
          code: 'validation_failed',
          errors: [
            { path: '/client_id', message: 'is required' },
            { path: '/client_secret', message: 'is required' },
          ],
        }),
      );
    });

    it('refuses another grant type', () => {
      expect(() =>
        sut.credentialsFrom({ grant_type: 'password', client_id: 'a', client_secret: 'b' }, undefined),
      ).toThrow(
        expect.objectContaining({
          status: 400,
          code: 'bad_request',
          errors: [{ path: '/grant_type', message: 'must be "client_credentials"' }],
        }),
      );
    });
  });
});
