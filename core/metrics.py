"""Operational counters every layer may count into, on one registry of their own (not the global).

The bot counts outages, updates and handler errors here without importing the web layer;
`/metrics` renders this registry next to the web server's own. docs/DEPLOY.md lists the alerts
built on them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from prometheus_client import CollectorRegistry, Counter, Gauge
from prometheus_client.core import CounterMetricFamily, Metric
from prometheus_client.registry import Collector


class OpsMetrics:
    """What an operator alerts on: updates and their failures, outages, Telegram's 429s,
    letters and SMS, codes and password logins."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.outages = Counter(
            "accountbot_dependency_unavailable",
            "Updates answered 'temporarily unavailable', by the dependency that was down",
            ["dependency"],
            registry=self.registry,
        )
        self.updates = Counter(
            "accountbot_updates_handled",
            "Telegram updates the dispatcher finished, by update type",
            ["type"],
            registry=self.registry,
        )
        self.handler_errors = Counter(
            "accountbot_handler_errors",
            "Updates whose handling raised, by kind (a dependency's name, 'refused' or 'bug')",
            ["kind"],
            registry=self.registry,
        )
        self.dependency_up = Gauge(
            "accountbot_dependency_up",
            "1 when the dependency answered the last readiness look, else 0",
            ["dependency"],
            registry=self.registry,
        )
        self.down_seconds = Counter(
            "accountbot_dependency_down_seconds",
            "Seconds a dependency was found down by the readiness looks (outage time)",
            ["dependency"],
            registry=self.registry,
        )

        self.messages = Counter(
            "accountbot_messages",
            "Letters and SMS handed to the mail server or the SMS gateway, by outcome",
            ["channel", "outcome"],
            registry=self.registry,
        )
        self.codes_issued = Counter(
            "accountbot_codes_issued",
            "One-time codes issued, by purpose (email, phone, release, recovery, ...)",
            ["purpose"],
            registry=self.registry,
        )
        self.codes_refused = Counter(
            "accountbot_codes_refused",
            "Codes refused, by purpose and reason (wrong, expired, too_soon)",
            ["purpose", "reason"],
            registry=self.registry,
        )
        self.login_failures = Counter(
            "accountbot_login_failures",
            "Password logins refused: wrong login or password, or throttled",
            ["reason"],
            registry=self.registry,
        )
        self.workspace_notices = Counter(
            "accountbot_workspace_notices",
            "Back-channel notices to workspaces, by outcome (delivered, retried, abandoned, "
            "dropped: the address changed again before it went)",
            ["outcome"],
            registry=self.registry,
        )

    def observe(self, name: str, documentation: str, read: Callable[[], float]) -> None:
        """A counter kept elsewhere (the Bot API pacer's 429s), read at every scrape."""
        self.registry.register(_ReadCounter(name, documentation, read))


class _ReadCounter(Collector):
    def __init__(self, name: str, documentation: str, read: Callable[[], float]) -> None:
        self.name, self.documentation, self.read = name, documentation, read

    def collect(self) -> Iterable[Metric]:
        yield CounterMetricFamily(self.name, self.documentation, value=self.read())
