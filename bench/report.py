"""The bench's table, the issue's targets checked against a run, and the latency plot."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

R = dict[str, Any]


def _get(results: R, key: str) -> float | None:
    value = results.get(key)
    return float(value) if isinstance(value, int | float) else None


# (what, the rule as written in issue #13, the limit from the run's figures, higher is better)
TARGETS: tuple[tuple[str, str, Callable[[R], float | None], bool], ...] = (
    ("dispatch_ratio_memory", ">= 0.5", lambda r: 0.5, True),
    ("dispatch_ratio_redis", ">= 0.5", lambda r: 0.5, True),
    ("redis_round_trips_per_update", "<= 4", lambda r: 4.0, False),
    ("units_per_update", "<= 1", lambda r: 1.0, False),
    (
        "e2e_max_sustained_ups",
        ">= 0.8 x e2e_bare_max_sustained_ups",
        lambda r: _scaled(r, "e2e_bare_max_sustained_ups", 0.8),
        True,
    ),
    ("e2e_p99_ms", "<= 50 at half the bare maximum", lambda r: 50.0, False),
    (
        "e2e_webhook_max_sustained_ups",
        ">= 0.8 x e2e_webhook_bare_max_sustained_ups",
        lambda r: _scaled(r, "e2e_webhook_bare_max_sustained_ups", 0.8),
        True,
    ),
    ("e2e_webhook_p99_ms", "<= 50 at half the bare maximum", lambda r: 50.0, False),
    (
        "me_p99_ms_hashing",
        "<= 2 x me_p99_ms_idle + 5",
        lambda r: None if (i := _get(r, "me_p99_ms_idle")) is None else 2 * i + 5,
        False,
    ),
    (
        "login_rps",
        ">= 0.9 x argon2_verify_per_s",
        lambda r: _scaled(r, "argon2_verify_per_s", 0.9),
        True,
    ),
    ("redis_bytes_per_conversation", "<= 1,024", lambda r: 1024.0, False),
    ("rss_kb_per_conversation", "<= 2", lambda r: 2.0, False),
)


def _scaled(results: R, key: str, factor: float) -> float | None:
    value = _get(results, key)
    return None if value is None else value * factor


def targets(results: R) -> dict[str, Any]:
    out = {}
    for key, rule, limit_of, higher in TARGETS:
        value, limit = _get(results, key), limit_of(results)
        met = None
        if value is not None and limit is not None:
            met = value >= limit if higher else value <= limit
        out[key] = {"rule": rule, "value": value, "limit": limit, "met": met}
    return out


def _n(value: Any, digits: int = 0) -> str:
    if not isinstance(value, int | float):
        return "—" if value is None else str(value)
    if isinstance(value, int):
        return f"{value:,}"
    if abs(value) < 10 and digits == 0:
        digits = 2
    return f"{value:,.{digits}f}"


def rows(results: R) -> list[tuple[str, str, str, str]]:
    """(figure, the bot, the baseline in the same run, ratio) for the table."""
    d = results.get("details", {}).get("dispatch", {})
    out: list[tuple[str, str, str, str]] = []
    for storage, title in (("memory", "memory + SQLite"), ("redis", "Redis + PostgreSQL")):
        if storage in d:
            f, b, q = d[storage]["full"], d[storage]["bare"], d[storage]["ratio"]
            out.append(
                (
                    f"dispatch, {title} (updates/s; min/median/max)",
                    f"{_n(f['min'])} / {_n(f['median'])} / {_n(f['max'])}",
                    f"bare aiogram: {_n(b['min'])} / {_n(b['median'])} / {_n(b['max'])}",
                    f"{q['min']:.3f} / {q['median']:.3f} / {q['max']:.3f}",
                )
            )
    if "redis" in d:
        steps = d["redis"]["steps"]
        per_step = ", ".join(
            f"{name} {_n(v['redis_commands'], 1)}/{_n(v['redis_round_trips'], 1)}"
            for name, v in steps.items()
        )
        bare = _get(results, "bare_redis_cmds_per_update")
        cmds = _get(results, "redis_cmds_per_update")
        out.append(
            (
                "Redis commands / round trips per update (mix average)",
                f"{_n(cmds, 1)} / {_n(results.get('redis_round_trips_per_update'), 1)}",
                f"bare aiogram: {_n(bare, 1)}",
                _ratio(cmds, bare, "x"),
            )
        )
        out.append(("  per step (commands/round trips)", per_step, "", ""))
        units = ", ".join(
            f"{name} {_n(v['sql_statements'], 1)}/{_n(v['units'], 1)}" for name, v in steps.items()
        )
        out.append(
            (
                "SQL statements / units of work per update, PostgreSQL",
                f"{_n(results.get('sql_per_update'), 1)} / "
                f"{_n(results.get('units_per_update'), 1)}",
                "—",
                "",
            )
        )
        out.append(("  per step (statements/units)", units, "", ""))
        out.append(
            (
                "SQL statements / units of work per update, SQLite",
                f"{_n(results.get('sql_per_update_sqlite'), 1)} / "
                f"{_n(results.get('units_per_update_sqlite'), 1)}",
                "—",
                "",
            )
        )
    if "e2e_max_sustained_ups" in results:
        full, bare = results["e2e_max_sustained_ups"], results["e2e_bare_max_sustained_ups"]
        out.append(
            (
                "end to end through the sandbox, max sustained (updates/s, polling)",
                _n(full),
                f"bare bot, same sandbox: {_n(bare)}",
                _ratio(full, bare),
            )
        )
        out.append(
            (
                f"end to end p50 / p99 at {_n(results.get('e2e_at_ups'))}/s (ms)",
                f"{_n(results['e2e_p50_ms'], 1)} / {_n(results['e2e_p99_ms'], 1)}",
                "",
                "",
            )
        )
    if "e2e_webhook_max_sustained_ups" in results:
        full = results["e2e_webhook_max_sustained_ups"]
        bare = results["e2e_webhook_bare_max_sustained_ups"]
        out.append(
            (
                "end to end through the sandbox, max sustained (updates/s, webhook)",
                _n(full),
                f"bare bot, same sandbox: {_n(bare)}",
                _ratio(full, bare),
            )
        )
        out.append(
            (
                f"end to end p50 / p99 at {_n(results.get('e2e_webhook_at_ups'))}/s (ms, webhook)",
                f"{_n(results['e2e_webhook_p50_ms'], 1)} / {_n(results['e2e_webhook_p99_ms'], 1)}",
                "",
                "",
            )
        )
    if "me_p99_ms_hashing" in results:
        out.append(
            (
                "/me p50 / p99 while hashing at one core's rate (ms)",
                f"{_n(results['me_p50_ms_hashing'], 1)} / {_n(results['me_p99_ms_hashing'], 1)}",
                f"idle: {_n(results['me_p50_ms_idle'], 1)} / {_n(results['me_p99_ms_idle'], 1)}",
                _ratio(results["me_p99_ms_hashing"], results["me_p99_ms_idle"], "x (p99)"),
            )
        )
        out.append(
            (
                "POST /auth/login (per s, 2 clients)",
                _n(results["login_rps"], 1),
                f"raw argon2 verify, 2 threads: {_n(results['argon2_verify_per_s'], 1)}",
                _ratio(results["login_rps"], results["argon2_verify_per_s"]),
            )
        )
    if "redis_bytes_per_conversation" in results:
        out.append(
            (
                "Redis per conversation in progress (bytes, keys)",
                f"{_n(results['redis_bytes_per_conversation'])} B in "
                f"{_n(results['redis_keys_per_conversation'], 1)} keys",
                f"bare: {_n(results['bare_redis_bytes_per_conversation'])} B in "
                f"{_n(results['bare_redis_keys_per_conversation'], 1)} keys",
                _ratio(
                    results["redis_bytes_per_conversation"],
                    results["bare_redis_bytes_per_conversation"],
                    "x",
                ),
            )
        )
        out.append(
            (
                f"process memory per conversation in progress "
                f"({_n(results['rss_conversations'])} of them, KB)",
                _n(results["rss_kb_per_conversation"], 2),
                f"bare: {_n(results['bare_rss_kb_per_conversation'], 2)}",
                _ratio(results["rss_kb_per_conversation"], results["bare_rss_kb_per_conversation"]),
            )
        )
        out.append(("PostgreSQL per account (bytes)", _n(results["pg_bytes_per_account"]), "", ""))
    if "redis_ops_per_s" in results or "redis_benchmark" in results:
        out.append(
            (
                "capacity here: redis-benchmark GET/SET, pgbench TPC-B / select (per s)",
                f"{_n(results.get('redis_ops_per_s', results.get('redis_benchmark')))}; "
                f"{_n(results.get('pg_tpcb_tps', results.get('pgbench')))} / "
                f"{_n(results.get('pg_select_tps'))}",
                "",
                "",
            )
        )
    return out


def _ratio(value: Any, base: Any, unit: str = "") -> str:
    if not isinstance(value, int | float) or not isinstance(base, int | float) or not base:
        return ""
    return f"{value / base:.2f}{unit}"


def table(results: R) -> str:
    lines = ["| figure | the bot | baseline, same run | ratio |", "| --- | --- | --- | --- |"]
    lines += [f"| {a} | {b} | {c} | {d} |" for a, b, c, d in rows(results)]
    lines += [
        "",
        "| target (issue #13) | rule | value | limit | met |",
        "| --- | --- | --- | --- | --- |",
    ]
    for key, t in results.get("targets", {}).items():
        met = {True: "yes", False: "**no**", None: "—"}[t["met"]]
        lines.append(f"| {key} | {t['rule']} | {_n(t['value'], 2)} | {_n(t['limit'], 2)} | {met} |")
    plan = results.get("projection")
    if plan:
        lines += ["", "| projection | " + " | ".join(k for k in plan if k != "assumption") + " |"]
        keys = [k for k in plan if k != "assumption"]
        lines.append("| --- |" + " --- |" * len(keys))
        fields = sorted({f for k in keys for f in plan[k]})
        for name in fields:
            lines.append(f"| {name} | " + " | ".join(_n(plan[k].get(name)) for k in keys) + " |")
        lines.append(f"\n(assumption: {plan['assumption']})")
    if results.get("hung_updates"):
        lines.append(
            f"\n{results['hung_updates']} updates were still unhandled after 30 s and given up "
            "on (their chat's lock renewed meanwhile): the figures around them are not normal"
        )
    if results.get("warnings"):
        lines.append(
            f"\n{results['warnings']} warnings were logged during the run (outage answers or "
            "errors): see details.warnings in the results"
        )
    run = results.get("run", {})
    if run:
        lines.append(
            f"\nrun: size {run['size']}, commit {run['commit']}, {run['seconds']} s, "
            f"load average before {run['load_average_before'][0]:.2f}, "
            f"after {run['load_average_after'][0]:.2f}, {run['cpus']} CPUs"
        )
    return "\n".join(lines)


def plot(results: R, path: Path) -> None:
    """p50 and p99 against offered load, the bot and the bare bot on the same sandbox."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import matplotlib.ticker

    curve = results["details"]["e2e_curve"]
    fig, ax = plt.subplots(figsize=(8, 5))
    lines = (("bot", "tab:red"), ("bare", "tab:blue"), ("bot_webhook", "tab:orange"))
    for name, colour in (*lines, ("bare_webhook", "tab:cyan")):
        steps = [s for s in curve.get(name, []) if s["answered"]]
        loads = [s["offered"] for s in steps]
        label = "the bot" if name.startswith("bot") else "bare aiogram bot"
        label += ", webhook" if name.endswith("webhook") else ", polling"
        ax.plot(loads, [s["p50_ms"] for s in steps], "o-", color=colour, label=f"{label}, p50")
        ax.plot(loads, [s["p99_ms"] for s in steps], "s--", color=colour, label=f"{label}, p99")
    ax.set_xscale("log", base=2)
    ax.set_yscale("log")
    ax.xaxis.set_major_formatter(matplotlib.ticker.ScalarFormatter())
    ax.yaxis.set_major_formatter(matplotlib.ticker.ScalarFormatter())
    ax.axhline(1000, color="grey", linewidth=0.8)
    ax.set_xlabel("offered load, /me per second (through the sandbox)")
    ax.set_ylabel("message to answer, ms")
    run = results.get("run", {})
    ax.set_title(f"Latency against offered load (commit {run.get('commit', '?')})")
    ax.legend()
    ax.grid(True, which="both", alpha=0.3)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=100)
    plt.close(fig)
