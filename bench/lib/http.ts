/** A JSON request with a timeout; a body that is not JSON (Prometheus text) comes back as text. */
export async function httpJson<T = unknown>(
  method: string,
  url: string,
  body?: unknown,
  token?: string,
  timeoutMs = 10_000,
  headers: Record<string, string> = {},
): Promise<{ status: number; body: T }> {
  const res = await fetch(url, {
    method,
    headers: {
      'content-type': 'application/json',
      ...(token ? { authorization: `Bearer ${token}` } : {}),
      ...headers,
    },
    body: body === undefined ? undefined : JSON.stringify(body),
    signal: AbortSignal.timeout(timeoutMs),
  });
  const text = await res.text();
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    json = text;
  }
  return { status: res.status, body: json as T };
}
