"""phoneauth as an OpenID Connect provider, on Logto's paths, built on Authlib's server."""
