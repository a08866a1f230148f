// The API reference at /api/docs: Swagger UI (vendored in static/swagger) on the app's own OpenAPI document.
// A file rather than FastAPI's inline script, so the page keeps the app's Content-Security-Policy.
window.addEventListener("load", function () {
  var root = document.getElementById("swagger-ui");
  window.SwaggerUIBundle({url: root.dataset.openapiUrl, domNode: root, deepLinking: true});
});
