"""The development identity provider: real OIDC on loopback, built on Authlib's server side.

The sandbox serves it (`sandbox.stack`) beside the product's web routes; the product never does.
"""
