"""The built-in SMS providers, one package each: config model, request, response, README, logo."""
