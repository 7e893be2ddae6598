// The API docs page (/api/docs): the vendored Swagger UI (static/vendor/swagger-ui-dist, a classic
// script loaded with `defer` just before this module, so it has run by now) renders the OpenAPI
// document. Everything comes from our server: no CDN, no inline script.
const container = document.getElementById("api-docs");

window.SwaggerUIBundle({
  url: container.dataset.specUrl,
  domNode: container,
  // Never send our document to validator.swagger.io (the default would show its badge).
  validatorUrl: null,
  // Ignore ?url= and ?configUrl= in the page's address: the page shows our document only.
  queryConfigEnabled: false,
  deepLinking: false,
  // The schemas are shown with each operation; the separate list at the bottom starts closed.
  defaultModelsExpandDepth: 0,
});
