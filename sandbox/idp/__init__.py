"""The development identity provider: real OIDC on loopback, built on Authlib's server side."""
