"""Operational counters every layer may count into, on one registry of their own (not the global).

The bot counts outages here without importing the web layer; `/metrics` can render this registry
next to its own.
"""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter


class OpsMetrics:
    """Dependencies found down while handling an update or a request (PRODUCT §3)."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.outages = Counter(
            "accountbot_dependency_unavailable",
            "Updates answered 'temporarily unavailable', by the dependency that was down",
            ["dependency"],
            registry=self.registry,
        )
