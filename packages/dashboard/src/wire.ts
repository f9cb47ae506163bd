// The server's request and response shapes, generated from its OpenAPI document into the client
// package (`npm run openapi`): a DTO change fails the dashboard's typecheck where the shape is
// used. Type-only: esbuild erases it from the bundle.
export type * from '../../client/src/wire/openapi';
