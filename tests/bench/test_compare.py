"""`python -m bench.compare`: do two bench runs agree within the issue's 15 % on every ratio?"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from bench import compare


def a_run(scale: float = 1.0, **overrides: Any) -> dict[str, Any]:
    """A run's figures; `scale` moves every product figure, so every ratio, by that factor."""
    results: dict[str, Any] = {
        "dispatch_ratio_memory": 0.1 * scale,
        "dispatch_ratio_redis": 0.25 * scale,
        "e2e_max_sustained_ups": 60 * scale,
        "e2e_bare_max_sustained_ups": 280,
        "e2e_webhook_max_sustained_ups": 40 * scale,
        "e2e_webhook_bare_max_sustained_ups": 240,
        "me_p99_ms_hashing": 60 * scale,
        "me_p99_ms_idle": 30,
        "login_rps": 40 * scale,
        "argon2_verify_per_s": 45,
        "redis_bytes_per_conversation": 1000 * scale,
        "bare_redis_bytes_per_conversation": 272,
        "rss_kb_per_conversation": 3.4 * scale,
        "bare_rss_kb_per_conversation": 0.56,
        "details": {
            "dispatch": {
                "memory": {"ratio": {"min": 0.07, "median": 0.1 * scale, "max": 0.11}},
                "redis": {"ratio": {"min": 0.2, "median": 0.25 * scale, "max": 0.27}},
            },
            "login_ratio": {"min": 0.8, "median": 0.9, "max": 0.95},
        },
        "run": {"commit": "abc1234", "size": "full", "load_average_before": [1.2, 1, 1]},
    }
    results.update(overrides)
    return results


def written(tmp_path: Path, name: str, results: dict[str, Any]) -> Path:
    path = tmp_path / name
    path.write_text(json.dumps(results))
    return path


def test_runs_within_the_tolerance_agree(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    first, second = written(tmp_path, "a.json", a_run()), written(tmp_path, "b.json", a_run(1.1))

    assert compare.main([str(first), str(second)]) == 0

    out = capsys.readouterr().out
    assert "every ratio within 15%: yes" in out
    assert "| dispatch, memory + SQLite | 0.100 | 0.070 / 0.100 / 0.110 | 0.110 |" in out
    assert "first: abc1234 full, load 1.2–?" in out


def test_one_ratio_beyond_the_tolerance_fails_the_comparison(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    moved = a_run(login_rps=30)  # 40/45 against 30/45: 25 % apart
    first, second = written(tmp_path, "a.json", a_run()), written(tmp_path, "b.json", moved)

    assert compare.main([str(first), str(second)]) == 1

    out = capsys.readouterr().out
    assert "| sign-in / argon2 verify | 0.889 |" in out
    assert "| 25% | **no** |" in out
    assert "every ratio within 15%: no" in out


def test_a_ratio_one_run_lacks_does_not_count_as_agreement() -> None:
    second = a_run()
    del second["rss_kb_per_conversation"]

    rows, agree = compare.compare(a_run(), second, 0.15)

    assert not agree
    assert ("process memory per conversation", "6.071", "", "—", "", "—", "**no**") in rows


def test_a_part_neither_run_ran_is_left_out() -> None:
    first, second = a_run(), a_run()
    for run in (first, second):
        del run["e2e_webhook_max_sustained_ups"]

    rows, agree = compare.compare(first, second, 0.15)

    assert agree
    assert not [row for row in rows if row[0].startswith("end to end, webhook")]
