// Swagger UI on the API's own OpenAPI document (the URL comes from a data-* attribute: no inline script).
(function () {
  "use strict";
  var node = document.getElementById("swagger-ui");
  if (!node || typeof window.SwaggerUIBundle !== "function") { return; }
  window.SwaggerUIBundle({
    url: node.getAttribute("data-spec-url"),
    domNode: node,
    deepLinking: true,
    // No call to the public validator service: the page talks to this site only.
    validatorUrl: null,
    tryItOutEnabled: false,
    defaultModelsExpandDepth: 0,
    docExpansion: "list"
  });
}());
