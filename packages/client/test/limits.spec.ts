// The client keeps its own copy of the server's batch limit (it ships without the server's code);
// this spec is what keeps the copy honest until the wire types are generated from openapi.json.
import { MAX_BATCH_EVENTS as SERVER_MAX_BATCH_EVENTS } from '../../../src/common/limits';
import { MAX_BATCH_EVENTS } from '../src/client';

describe('MAX_BATCH_EVENTS', () => {
  it("equals the server's limit of POST /v1/events/batch", () => {
    expect(MAX_BATCH_EVENTS).toBe(SERVER_MAX_BATCH_EVENTS);
  });
});
