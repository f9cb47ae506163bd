// The three event types of the original brief. Payloads that carry anything else, or miss a
// field, are "unexpected values in the payload": quarantined with JSON-pointer reasons.
// Admins may replace any of them at run time (PUT /v1/schemas/{category}/{name}).

export interface BuiltinSchema {
  category: string;
  name: string;
  schema: Record<string, unknown>;
}

const host = {
  type: 'string',
  minLength: 1,
  maxLength: 255,
  pattern: '^[^\\s/]+$',
  description: 'Host name (may carry a port)',
};
const path = {
  type: 'string',
  minLength: 1,
  maxLength: 2048,
  pattern: '^/',
  description: 'URL path, starting with /',
};

export const BUILTIN_SCHEMAS: BuiltinSchema[] = [
  {
    category: 'page interaction',
    name: 'pageview',
    schema: {
      type: 'object',
      properties: { host, path },
      required: ['host', 'path'],
      additionalProperties: false,
    },
  },
  {
    category: 'page interaction',
    name: 'cta click',
    schema: {
      type: 'object',
      properties: { host, path, element: { type: 'string', minLength: 1, maxLength: 500 } },
      required: ['host', 'path', 'element'],
      additionalProperties: false,
    },
  },
  {
    category: 'form interaction',
    name: 'submit',
    schema: {
      type: 'object',
      properties: {
        host,
        path,
        form: {
          type: 'object',
          description: 'The submitted form fields',
          additionalProperties: { type: ['string', 'number', 'boolean', 'null'] },
        },
      },
      required: ['host', 'path', 'form'],
      additionalProperties: false,
    },
  },
];
