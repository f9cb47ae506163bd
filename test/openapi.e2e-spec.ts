import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { serializeOpenApi } from '../src/app.setup';
import { WIRE_TYPES_FILE } from '../scripts/wire-types';
import { adminToken, http, registerClient, startApp, type TestApp } from './helpers/app';
import type { WriteKeyDto } from './helpers/wire';
import { writeKeyAuth } from './helpers/write-keys';

type Json = Record<string, any>;
interface Operation {
  method: string;
  path: string;
  op: Json;
}

const METHODS = ['get', 'put', 'post', 'delete', 'patch'];
const SEGMENT_CALLS = ['batch', 'track', 'page', 'screen', 'identify', 'group', 'alias'];

function operations(doc: Json): Operation[] {
  return Object.entries(doc.paths as Record<string, Json>).flatMap(([path, item]) =>
    METHODS.filter((m) => item[m]).map((method) => ({ method, path, op: item[method] as Json })),
  );
}

/** What Swagger UI puts in a parameter's input on "Try it out": its example, else its default. */
function prefilled(param: Json): string | number | undefined {
  return param.example ?? param.schema?.example ?? param.schema?.default;
}

describe('OpenAPI document (/docs-json)', () => {
  let t: TestApp;
  let doc: Json;

  beforeAll(async () => {
    t = await startApp();
    doc = (await http(`${t.url}/docs-json`)).body as Json;
  });
  afterAll(() => t.close());

  it('offers OAuth2 client credentials on /v1/auth/token beside the bearer scheme', () => {
    expect(doc.components.securitySchemes.bearer).toMatchObject({ type: 'http', scheme: 'bearer' });
    expect(doc.components.securitySchemes.oauth2).toMatchObject({
      type: 'oauth2',
      flows: {
        clientCredentials: {
          tokenUrl: '/v1/auth/token',
          scopes: {
            'events:write': expect.any(String),
            'events:read': expect.any(String),
            admin: expect.any(String),
          },
        },
      },
    });
  });

  it('names the scope of every operation that needs a token, the same way the guard enforces it', async () => {
    const admin = await adminToken(t.url);
    const reader = await registerClient(t.url, ['events:read'], 'scope reader');
    const writer = await registerClient(t.url, ['events:write'], 'scope writer');
    const tokens: Record<string, string> = {
      'events:read': reader.token,
      'events:write': writer.token,
      admin,
    };
    // No bearer token: the token route, the probes, and Segment's routes (they take a write key).
    const open = new Set(['POST /v1/auth/token', 'GET /health', 'GET /ready']);
    const segment = new Set([
      ...SEGMENT_CALLS.map((call) => `POST /v1/${call}`),
      'GET /v1/projects/{writeKey}/settings',
    ]);
    for (const { method, path, op } of operations(doc)) {
      const route = `${method.toUpperCase()} ${path}`;
      if (segment.has(route)) {
        expect({ route, security: op.security }).toEqual({ route, security: [{ writeKey: [] }] });
        expect(op.description).toMatch(/^\*\*Scope:\*\* none .*write key/);
        continue;
      }
      if (open.has(route)) {
        expect({ route, security: op.security }).toEqual({ route, security: undefined });
        expect(op.description).toMatch(/^\*\*Scope:\*\* none/);
        continue;
      }
      const scopes = (op.security as Json[]).flatMap((s) => (s.oauth2 as string[] | undefined) ?? []);
      expect({ route, scopes: scopes.length > 0, bearer: op.security.some((s: Json) => s.bearer) }).toEqual({
        route,
        scopes: true,
        bearer: true,
      });
      expect(op.description).toContain(`**Scope:** ${scopes.map((s) => `\`${s}\``).join(' or ')}`);
      // A token with a documented scope passes the guard (reads only: writes would change data);
      // a token with none of them gets 403 before anything happens.
      const concrete = path.replace(/\{[^}]+\}/g, '00000000-0000-7000-8000-000000000000');
      const json = method === 'get' || method === 'delete' ? undefined : {};
      if (method === 'get') {
        for (const scope of scopes) {
          const res = await http(`${t.url}${concrete}`, { token: tokens[scope] });
          expect({ route, scope, forbidden: res.status === 403 }).toEqual({ route, scope, forbidden: false });
        }
      }
      for (const outsider of (['events:read', 'events:write'] as const).filter((x) => !scopes.includes(x))) {
        const res = await http(`${t.url}${concrete}`, {
          method: method.toUpperCase(),
          token: tokens[outsider],
          json,
        });
        expect({ route, outsider, status: res.status }).toEqual({ route, outsider, status: 403 });
      }
    }
  });

  it("offers the write key of Segment's routes as HTTP Basic, and takes what Swagger UI then sends", async () => {
    expect(doc.components.securitySchemes.writeKey).toMatchObject({ type: 'http', scheme: 'basic' });
    const admin = await adminToken(t.url);
    const writer = await registerClient(t.url, ['events:write'], 'swagger segment writer');
    const key = await http<WriteKeyDto>(`${t.url}/v1/clients/${writer.clientId}/write-keys`, {
      method: 'POST',
      token: admin,
    });
    expect(key.status).toBe(201);
    // Swagger UI's Authorize for an http/basic scheme: btoa(username + ':' + password), password empty.
    const authorization = writeKeyAuth(key.body.write_key);
    for (const call of SEGMENT_CALLS) {
      const res = await http(`${t.url}/v1/${call}`, {
        headers: { authorization },
        json:
          call === 'batch'
            ? { batch: [{ type: 'track', event: 'x', anonymousId: 'a' }] }
            : { anonymousId: 'a' },
      });
      expect({ call, status: res.status }).toEqual({ call, status: 200 });
    }
  });

  describe('the token route', () => {
    it('declares no header parameter, and its request example asks for no scope', () => {
      const op = doc.paths['/v1/auth/token'].post;
      expect(op.parameters ?? []).toEqual([]);
      for (const media of Object.values(op.requestBody.content as Record<string, Json>)) {
        const examples = Object.values((media.examples ?? {}) as Record<string, Json>).map((e) => e.value);
        if (media.example) examples.push(media.example);
        expect(examples.length).toBeGreaterThan(0);
        for (const value of examples) expect(value).not.toHaveProperty('scope');
      }
      const scope = doc.components.schemas.TokenRequestDto.properties.scope;
      expect(scope.example).toBeUndefined();
    });

    it('accepts what Swagger UI sends: a form body with HTTP Basic and an empty or space-separated scope', async () => {
      const c = await registerClient(t.url, ['events:read', 'events:write'], 'swagger ui');
      const basic = Buffer.from(`${encodeURIComponent(c.clientId)}:${encodeURIComponent(c.secret)}`).toString(
        'base64',
      );
      for (const [body, scope] of [
        ['grant_type=client_credentials', 'events:write events:read'],
        ['grant_type=client_credentials&scope=', 'events:write events:read'],
        ['grant_type=client_credentials&scope=events%3Aread%20events%3Awrite', 'events:read events:write'],
        ['grant_type=client_credentials&scope=events%3Aread', 'events:read'],
      ]) {
        const res = await http(`${t.url}/v1/auth/token`, {
          body,
          headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: `Basic ${basic}` },
        });
        expect({ body, status: res.status, scope: res.body.scope?.split(' ').sort() }).toEqual({
          body,
          status: 200,
          scope: scope.split(' ').sort(),
        });
      }
    });
  });

  it('documents one real example per error status, and Retry-After on 429 and 503', () => {
    const codes: Record<string, string[]> = {
      '400': ['validation_failed', 'bad_request', 'invalid_json'],
      '401': ['unauthorized', 'invalid_client'],
      '403': ['forbidden'],
      '404': ['not_found'],
      '409': ['conflict'],
      '413': ['payload_too_large'],
      '415': ['unsupported_media_type'],
      '429': ['rate_limited'],
      '503': ['queue_unavailable', 'service_unavailable', 'query_timeout'],
    };
    const seen = new Set<string>();
    for (const { method, path, op } of operations(doc)) {
      for (const [status, response] of Object.entries(op.responses as Record<string, Json>)) {
        if (Number(status) < 400) continue;
        const route = `${method.toUpperCase()} ${path} ${status}`;
        const media = response.content?.['application/json'] as Json | undefined;
        const examples = Object.values((media?.examples ?? {}) as Record<string, Json>).map(
          (e) => e.value as Json,
        );
        expect({ route, examples: examples.length > 0 }).toEqual({ route, examples: true });
        for (const example of examples) {
          expect({ route, code: example.code, known: codes[status].includes(example.code) }).toEqual({
            route,
            code: example.code,
            known: true,
          });
          expect(typeof example.message).toBe('string');
        }
        // Not the same example under every status (the old document showed validation_failed everywhere).
        seen.add(`${status}:${examples.map((e) => e.code).join()}`);
        if (status === '429' || status === '503') {
          expect({ route, header: response.headers?.['Retry-After']?.schema?.type }).toEqual({
            route,
            header: 'integer',
          });
        }
      }
    }
    expect(seen.size).toBeGreaterThanOrEqual(8);
  });

  it('gives types and formats: time bounds date-time, limit integer, ids uuid, status errors as objects', () => {
    const params = (path: string): Record<string, Json> =>
      Object.fromEntries((doc.paths[path].get.parameters as Json[]).map((p) => [p.name, p.schema as Json]));
    for (const path of ['/v1/events', '/v1/sessions', '/v1/stats/events', '/v1/rejected-events']) {
      const p = params(path);
      expect({ path, from: p.from.format, to: p.to.format }).toEqual({
        path,
        from: 'date-time',
        to: 'date-time',
      });
      expect({ path, limit: p.limit.type }).toEqual({ path, limit: 'integer' });
    }
    expect(params('/v1/events/{id}').id.format).toBe('uuid');
    const schemas = doc.components.schemas as Record<string, Json>;
    expect(schemas.EventViewDto.properties.id.format).toBe('uuid');
    expect(schemas.EventViewDto.properties.timestamp.format).toBe('date-time');
    expect(schemas.QueuedDto.properties.id.format).toBe('uuid');
    const errors = schemas.EventStatusDto.properties.errors;
    expect(errors.type).toBe('array');
    const item = errors.items.$ref ? schemas[String(errors.items.$ref).split('/').pop()!] : errors.items;
    expect(item.type).toBe('object');
    expect(Object.keys(item.properties)).toEqual(expect.arrayContaining(['reason', 'path', 'message']));
  });

  it('types every property: none is a bare object (a `number | null` without `type` reads as one)', () => {
    const bare: string[] = [];
    for (const [name, schema] of Object.entries(doc.components.schemas as Record<string, Json>)) {
      for (const [prop, p] of Object.entries((schema.properties ?? {}) as Record<string, Json>)) {
        if (p.type === 'object' && !p.properties && !p.additionalProperties) bare.push(`${name}.${prop}`);
      }
    }
    expect(bare).toEqual([]);
  });

  it('"Try it out" works on the first click: every read route answers 200 with what the page pre-fills', async () => {
    const reader = await registerClient(t.url, ['events:read'], 'try it out');
    const admin = await adminToken(t.url);
    for (const { method, path, op } of operations(doc)) {
      // GET /v1/events/{id} asks for one event, the write keys of one client, the settings of one
      // write key: their example ids are rightly unknown here (404, 401).
      const oneThing = [
        '/v1/events/{id}',
        '/v1/clients/{client_id}/write-keys',
        '/v1/projects/{writeKey}/settings',
      ];
      if (method !== 'get' || oneThing.includes(path)) continue;
      const params = (op.parameters ?? []) as Json[];
      let url = path;
      const query = new URLSearchParams();
      for (const p of params) {
        const value = prefilled(p);
        if (p.in === 'path') url = url.replace(`{${p.name}}`, encodeURIComponent(String(value)));
        else if (p.in === 'query' && value !== undefined) query.set(p.name, String(value));
      }
      const token = (op.security as Json[] | undefined)?.some((s) => s.oauth2?.includes('events:read'))
        ? reader.token
        : admin;
      const res = await http(`${t.url}${url}${query.size ? `?${query.toString()}` : ''}`, { token });
      expect({ route: `GET ${path}`, query: query.toString(), status: res.status }).toEqual({
        route: `GET ${path}`,
        query: query.toString(),
        status: 200,
      });
    }
  });

  it('is committed as openapi.json, exactly as served (run `npm run openapi` after changing the API)', () => {
    const committed = readFileSync(join(__dirname, '..', 'openapi.json'), 'utf8');
    const served = serializeOpenApi(doc as never);
    if (committed !== served) {
      throw new Error(
        'openapi.json differs from the document the app serves at /docs-json: run `npm run openapi` and commit it',
      );
    }
  });

  it('has its wire types committed as generated from the served document (run `npm run openapi`)', () => {
    const committed = readFileSync(WIRE_TYPES_FILE, 'utf8');
    // In a child process: the generator's dependencies are ESM-only (see scripts/wire-types.ts).
    const root = join(__dirname, '..');
    const generated = execFileSync(join(root, 'node_modules', '.bin', 'tsx'), ['scripts/wire-types.ts'], {
      cwd: root,
      input: JSON.stringify(doc),
      encoding: 'utf8',
    });
    if (committed !== generated) {
      throw new Error(
        `${WIRE_TYPES_FILE} differs from the types generated from /docs-json: run \`npm run openapi\` and commit it`,
      );
    }
  });
});
