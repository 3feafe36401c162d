/* Starts Swagger UI on /docs (service/templates/swagger_ui.html) without any inline script, so the
 * page works under the strict Content-Security-Policy of service/security.py. The spec URL and the
 * OPENAPI_SWAGGER_UI_CONFIG overrides come from data- attributes of the container. */
(function () {
  "use strict";

  function start() {
    var container = document.getElementById("swagger-ui-container");
    if (!container || typeof window.SwaggerUIBundle !== "function") {
      return;
    }
    var presets = [window.SwaggerUIBundle.presets.apis];
    if (window.SwaggerUIStandalonePreset) {
      presets.push(window.SwaggerUIStandalonePreset); // lets the config choose "StandaloneLayout"
    }
    var config = {
      url: container.getAttribute("data-spec-url"),
      dom_id: "#swagger-ui-container",
      presets: presets
    };
    var overrides = JSON.parse(container.getAttribute("data-config") || "{}");
    Object.keys(overrides).forEach(function (name) {
      config[name] = overrides[name];
    });
    window.ui = window.SwaggerUIBundle(config);
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
