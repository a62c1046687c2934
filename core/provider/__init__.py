"""The OpenID Provider's core: workspaces as clients, consents, codes and tokens (PRODUCT §1.11)."""
