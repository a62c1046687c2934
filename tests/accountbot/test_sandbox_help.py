"""`accountbot sandbox --help` lists what the sandbox sets, its flood limits among them."""

from __future__ import annotations

import subprocess
import sys

from sandbox.botapi.flood import FloodLimits


def test_the_help_names_every_flood_limit_with_its_default() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "accountbot", "sandbox", "--help"],
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    lines = done.stdout.splitlines()
    for name, field in FloodLimits.model_fields.items():
        setting = f"SANDBOX_FLOOD_{name.upper()}"
        line = next((line for line in lines if line.strip().startswith(setting)), "")
        assert line.split()[1:2] == [f"{field.default:g}"], (setting, line)
