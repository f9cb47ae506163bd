/**
 * NUL and unpaired UTF-16 surrogates: JSON.parse accepts them, PostgreSQL text and jsonb refuse
 * them. Refused in envelope fields at the request; in payloads they send the event to quarantine.
 */
// eslint-disable-next-line no-control-regex -- matching NUL is the point
export const UNSTORABLE_RE = /\u0000|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

const UNSTORABLE_GLOBAL_RE = new RegExp(UNSTORABLE_RE.source, 'g');

/** Makes a string safe to store in an error message or path (NUL and lone surrogates → U+FFFD). */
export const storableText = (s: string): string => s.replace(UNSTORABLE_GLOBAL_RE, '\uFFFD');
