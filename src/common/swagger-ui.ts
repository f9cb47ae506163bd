// How /docs (Swagger UI) is served: nothing kept in browser storage, a Content-Security-Policy that
// fits the UI's own assets, and the Authorize dialog opening on the client-credentials sign-in.
import type { FastifyInstance } from 'fastify';
import type { SwaggerCustomOptions } from '@nestjs/swagger';

/** Where Swagger UI lives (its page, assets and the script below); the JSON is at /docs-json. */
export const DOCS_PATH = '/docs';
const AUTH_FIRST_SCRIPT = `${DOCS_PATH}/the-eye-auth-first.js`;

/**
 * Swagger UI's assets are files of the same origin: its page has inline <style> blocks and style
 * attributes (hence 'unsafe-inline' for styles only), its icons are data: images, and it calls
 * only this API. No inline or foreign script can run, so an injected one cannot read what is typed
 * into "Authorize".
 */
export const DOCS_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data:",
  "font-src 'self'",
  "connect-src 'self'",
  "form-action 'self'",
  "base-uri 'none'",
  "frame-ancestors 'none'",
].join('; ');

/**
 * Run by the page after Swagger UI's own scripts: when the Authorize dialog opens, Swagger UI
 * focuses the last scheme's input (the Segment write key's), scrolling the dialog to its bottom.
 * This puts the dialog back at its top and the cursor in the client_id box (oauth2 comes first).
 */
const AUTH_FIRST_JS = `(function () {
  new MutationObserver(function () {
    var content = document.querySelector('.swagger-ui .dialog-ux .modal-ux-content');
    if (!content || content.dataset.theEyeOpened) return;
    content.dataset.theEyeOpened = '1';
    setTimeout(function () {
      var clientId = content.querySelector('[data-name="clientId"]');
      if (clientId) clientId.focus({ preventScroll: true });
      content.scrollTop = 0;
    }, 0);
  }).observe(document.body, { childList: true, subtree: true });
})();
`;

/**
 * Options of SwaggerModule.setup: no persistAuthorization (it kept the client secret and the
 * token in localStorage, on the dashboard's origin, after the tab closed): signing in lasts as long
 * as the page.
 */
export const SWAGGER_UI_OPTIONS: SwaggerCustomOptions = {
  jsonDocumentUrl: 'docs-json',
  customJs: AUTH_FIRST_SCRIPT,
  swaggerOptions: { persistAuthorization: false },
};

/** Serves the dialog script and puts the CSP on every /docs response (page and assets). */
export function secureDocs(fastify: FastifyInstance): void {
  fastify.get(AUTH_FIRST_SCRIPT, (_request, reply) => {
    void reply.type('application/javascript; charset=utf-8').send(AUTH_FIRST_JS);
  });
  fastify.addHook('onRequest', (request, reply, done) => {
    const url = request.url;
    if (url === DOCS_PATH || url.startsWith(`${DOCS_PATH}/`) || url.startsWith(`${DOCS_PATH}?`))
      void reply.header('content-security-policy', DOCS_CSP);
    done();
  });
}
