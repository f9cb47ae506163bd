// The client needs the server's batch limit at run time (the generated wire types carry shapes,
// not values): this spec holds the constant to the `maxItems` that openapi.json, the committed
// contract, gives the events of POST /v1/events/batch.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { MAX_BATCH_EVENTS } from '../src/client';

interface ArraySchema {
  minItems?: number;
  maxItems?: number;
}

describe('MAX_BATCH_EVENTS', () => {
  it('equals the maxItems of the events of POST /v1/events/batch in openapi.json', () => {
    const doc = JSON.parse(readFileSync(join(__dirname, '..', '..', '..', 'openapi.json'), 'utf8')) as {
      components: { schemas: { BatchDto: { properties: { events: ArraySchema } } } };
    };
    const events = doc.components.schemas.BatchDto.properties.events;
    expect(events.maxItems).toBeDefined();
    expect(MAX_BATCH_EVENTS).toBe(events.maxItems);
  });
});
