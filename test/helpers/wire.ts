// The server's request and response shapes as generated from openapi.json (`npm run openapi`):
// specs name these instead of declaring their own, so a DTO change fails their typecheck.
export type * from '../../packages/client/src/wire/openapi';
