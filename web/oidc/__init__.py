"""The OpenID Provider's web end (PRODUCT §1.11), on Authlib's authorization server."""
