import { http } from './app';
import type { WriteKeyDto } from './wire';

/** The Authorization header value of a Segment SDK: the write key as Basic user name, empty password. */
export function writeKeyAuth(writeKey: string): string {
  return `Basic ${Buffer.from(`${writeKey}:`).toString('base64')}`;
}

/** Issues a write key to `clientId` (as the admin of `adminToken`); fails unless it is issued. */
export async function issueWriteKey(
  url: string,
  adminToken: string,
  clientId: string,
  allowedOrigins?: string[],
): Promise<string> {
  const res = await http<WriteKeyDto>(`${url}/v1/clients/${clientId}/write-keys`, {
    method: 'POST',
    token: adminToken,
    ...(allowedOrigins ? { json: { allowed_origins: allowedOrigins } } : {}),
  });
  if (res.status !== 201)
    throw new Error(`write key for ${clientId}: ${res.status} ${JSON.stringify(res.body)}`);
  return res.body.write_key;
}

/** The headers of a Segment SDK's request sent with `writeKey`. */
export function writeKeyHeaders(writeKey: string): { authorization: string } {
  return { authorization: writeKeyAuth(writeKey) };
}
