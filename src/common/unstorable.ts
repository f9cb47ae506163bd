/**
 * NUL and unpaired UTF-16 surrogates: JSON.parse accepts them, PostgreSQL text and jsonb refuse
 * them. Refused in envelope fields at the request; in payloads they send the event to quarantine.
 */
// eslint-disable-next-line no-control-regex -- matching NUL is the point
export const UNSTORABLE_RE = /\u0000|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;
