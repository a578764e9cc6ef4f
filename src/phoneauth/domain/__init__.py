"""The rules: verification codes, sign-in experience, connector management, tenants."""
