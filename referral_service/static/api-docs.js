// Starts Swagger UI on /api/docs (templates/api_docs.html): the document's URL and any
// OPENAPI_SWAGGER_UI_CONFIG come from the page's data attributes, so no inline script is needed.
(function () {
  'use strict'
  var container = document.getElementById('swagger-ui')
  if (!container || typeof window.SwaggerUIBundle !== 'function') {
    return
  }
  var config = JSON.parse(container.getAttribute('data-config') || '{}')
  config.url = container.getAttribute('data-spec-url')
  config.domNode = container
  window.ui = window.SwaggerUIBundle(config)
})()
