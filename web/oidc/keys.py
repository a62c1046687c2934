"""Signing keys (ES256) made with joserfc; kept in the database, never regenerated at start."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from joserfc.jwk import ECKey, KeySet

from core.provider.models import SigningKey
from core.provider.service import ProviderService
from core.settings import Settings

ALG = "ES256"
JWKS_MAX_AGE = 300  # seconds relying parties may cache JWKS (a rotation's new key is seen by then)


def _new() -> tuple[str, dict[str, str]]:
    key = ECKey.generate_key("P-256", auto_kid=True)
    data = key.as_dict(private=True)
    data["alg"], data["use"] = ALG, "sig"
    return str(data["kid"]), {k: str(v) for k, v in data.items()}


async def ensure_key(provider: ProviderService) -> None:
    """At start: keys whose tokens all expired are dropped; the first key, signing at once, is
    made when there is none to sign with (never a new one beside a working key)."""
    await provider.prune_keys()
    if await provider.signing_key() is None:
        kid, jwk = _new()
        await provider.add_key(kid, jwk, timedelta(0))


async def rotate(provider: ProviderService, publish_ahead: timedelta) -> SigningKey:
    """A new key, in JWKS at once, signing after `publish_ahead`; old ones pruned when due."""
    kid, jwk = _new()
    key = await provider.add_key(kid, jwk, publish_ahead)
    await provider.prune_keys()
    return key


async def rotate_now(provider: ProviderService) -> tuple[SigningKey, list[str]]:
    """An emergency: a new key signs at once, every other one leaves JWKS at once."""
    kid, jwk = _new()
    return await provider.replace_keys(kid, jwk)


def private(key: SigningKey) -> ECKey:
    return ECKey.import_key(dict(key.jwk))


def jwks(keys: list[SigningKey]) -> dict[str, Any]:
    public: dict[str, Any] = dict(
        KeySet([ECKey.import_key(dict(k.jwk)) for k in keys]).as_dict(private=False)
    )
    for entry in public["keys"]:
        entry.setdefault("alg", ALG)
        entry.setdefault("use", "sig")
    return public


def cache_control(settings: Settings) -> str:
    """At most `JWKS_MAX_AGE`, and never longer than a new key is published before it signs."""
    return f"public, max-age={min(JWKS_MAX_AGE, settings.op_key_publish_ahead)}"
