"""The provider registry: each module builds its provider from settings, or None when it is off.

Adding a provider is one module with `from_settings(settings) -> Provider | None`, listed here.
"""

from __future__ import annotations

from collections.abc import Callable

from core.settings import Settings
from web.providers import github, google, oidc, vk, yandex
from web.providers.base import Pending, Provider, ProviderError

__all__ = ["Pending", "Provider", "ProviderError", "build_registry"]

FACTORIES: tuple[Callable[[Settings], Provider | None], ...] = (
    google.from_settings,
    vk.from_settings,
    yandex.from_settings,
    github.from_settings,
    oidc.from_settings,
)


def build_registry(settings: Settings) -> dict[str, Provider]:
    """Every configured provider by name, in the order the bot shows them."""
    providers = (factory(settings) for factory in FACTORIES)
    return {provider.name: provider for provider in providers if provider is not None}
