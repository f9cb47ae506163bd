import { request } from 'node:http';
import type { HttpResult } from './app';

/**
 * An HTTP request whose TCP connection comes from `localAddress` (any 127.x.y.z on Linux's
 * loopback): the server sees that address as the peer, which a made-up X-Forwarded-For cannot do.
 */
export function httpFrom<T = any>(
  localAddress: string,
  url: string,
  init: { method?: string; json?: unknown; headers?: Record<string, string>; token?: string } = {},
): Promise<HttpResult<T>> {
  const headers: Record<string, string> = { ...init.headers };
  if (init.token) headers.authorization = `Bearer ${init.token}`;
  let body: string | undefined;
  if (init.json !== undefined) {
    headers['content-type'] = 'application/json';
    body = JSON.stringify(init.json);
  }
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      { method: init.method ?? (body === undefined ? 'GET' : 'POST'), headers, localAddress, agent: false },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          let parsed: unknown = text;
          try {
            parsed = text ? JSON.parse(text) : undefined;
          } catch {
            // not JSON: keep the text
          }
          const h = new Headers();
          for (const [k, v] of Object.entries(res.headers)) {
            if (v !== undefined) h.set(k, Array.isArray(v) ? v.join(', ') : v);
          }
          resolve({ status: res.statusCode ?? 0, headers: h, body: parsed as T });
        });
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}
