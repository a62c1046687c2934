"""docker-compose.yml as docker-compose reads it: valid, every variable a setting the product
knows, every required setting set, health checks, one migration job, a scalable webhook bot.

Docker cannot run here; `docker-compose config` checks and resolves the file (anchors merged,
variables filled in). Without docker-compose these tests are skipped, except under CI=true,
where it must be installed (.ci/run installs it).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from core.settings import Settings

ROOT = Path(__file__).resolve().parent.parent
COMPOSE = shutil.which("docker-compose")
REQUIRED = {"BOT_TOKEN": "1:x", "PUBLIC_URL": "https://id.example.com", "SECRET_KEY": "k" * 40}
VALUES = {**REQUIRED, "WEBHOOK_SECRET": "hook-secret"}
PRODUCT = {"migrate", "bot", "bot-polling"}  # the services that run the product's image

if COMPOSE is None and os.environ.get("CI") == "true":
    pytest.fail("docker-compose is required in CI (.ci/run installs it)", pytrace=False)
pytestmark = pytest.mark.skipif(COMPOSE is None, reason="docker-compose is not installed")


def compose(tmp_path: Path, *argv: str, **env: str) -> subprocess.CompletedProcess[str]:
    """docker-compose on a copy of the file, with an empty .env and only `env` set."""
    project = tmp_path / "project"
    (project / "deploy").mkdir(parents=True, exist_ok=True)
    shutil.copy(ROOT / "docker-compose.yml", project)
    shutil.copy(ROOT / "deploy" / "Caddyfile", project / "deploy")
    (project / ".env").touch()
    assert COMPOSE is not None
    environment = {"PATH": os.environ.get("PATH", ""), **env}
    return subprocess.run(
        [COMPOSE, *argv], cwd=project, env=environment, capture_output=True, text=True,
        timeout=120,
    )  # fmt: skip


def resolved(tmp_path: Path) -> dict[str, Any]:
    """`docker-compose config` with every profile, as a dict (YAML read by the Python that runs
    docker-compose: its distribution needs PyYAML, the product does not)."""
    done = compose(tmp_path, "--profile", "polling", "--profile", "staging", "config", **VALUES)
    assert done.returncode == 0, done.stderr
    assert COMPOSE is not None
    interpreter = Path(COMPOSE).read_text(errors="replace").splitlines()[0].removeprefix("#!")
    to_json = "import json, sys, yaml; print(json.dumps(yaml.safe_load(sys.stdin)))"
    converted = subprocess.run(
        [*interpreter.split(), "-c", to_json], input=done.stdout, capture_output=True,
        text=True, timeout=60, check=True,
    )  # fmt: skip
    config: dict[str, Any] = json.loads(converted.stdout)
    return config


@pytest.fixture(scope="module")
def services(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    found: dict[str, Any] = resolved(tmp_path_factory.mktemp("compose"))["services"]
    return found


def test_the_compose_file_is_valid(tmp_path: Path) -> None:
    done = compose(tmp_path, "config", "-q", **VALUES)
    assert done.returncode == 0, done.stderr


@pytest.mark.parametrize("missing", [*REQUIRED, "WEBHOOK_SECRET"])
def test_a_missing_required_value_stops_compose_naming_it(tmp_path: Path, missing: str) -> None:
    values = {name: value for name, value in VALUES.items() if name != missing}
    done = compose(tmp_path, "config", "-q", **values)
    assert done.returncode != 0
    assert f"set {missing} in .env" in done.stderr


def test_every_variable_the_product_is_given_is_a_setting(services: dict[str, Any]) -> None:
    known = {name.upper() for name in Settings.model_fields}
    assert set(services) >= PRODUCT
    for name in PRODUCT:
        given = set(services[name].get("environment", {}))
        assert given, name
        assert given - known == set(), name


def test_every_required_setting_is_set_where_the_bot_runs(services: dict[str, Any]) -> None:
    required = {
        name.upper() for name, field in Settings.model_fields.items() if field.is_required()
    }
    assert required == set(REQUIRED)  # the test knows them all
    for name in ("bot", "bot-polling"):
        assert required <= set(services[name]["environment"]), name
    # Webhook mode needs its secret; the migration job only where the data lives.
    assert services["bot"]["environment"]["WEBHOOK_SECRET"] == "hook-secret"
    assert set(services["migrate"]["environment"]) == {"DATABASE_URL", "REDIS_URL"}


def test_every_service_has_a_health_check_but_the_migration_job(
    services: dict[str, Any],
) -> None:
    assert {"postgres", "redis", "migrate", "bot", "proxy", "mailpit", "bot-polling"} <= set(
        services
    )
    for name, service in services.items():
        check = service.get("healthcheck", {})
        if name == "migrate":  # a job: its exit code is what the bot waits for
            assert check.get("disable") is True or check.get("test") == ["NONE"]
        else:
            assert check.get("test"), name


def test_the_bot_waits_for_one_migration_and_scales(services: dict[str, Any]) -> None:
    migrate, bot = services["migrate"], services["bot"]
    assert migrate["command"] == ["accountbot", "migrate"]
    assert migrate["restart"] == "no"
    assert bot["depends_on"]["migrate"]["condition"] == "service_completed_successfully"
    assert bot["depends_on"]["redis"]["condition"] == "service_healthy"
    assert bot["environment"]["TELEGRAM_MODE"] == "webhook"
    assert "command" not in bot  # the image's: accountbot run, no migration at start
    assert "ports" not in bot  # --scale bot=N: no fixed host port
    assert "/livez" in " ".join(bot["healthcheck"]["test"])
    # The proxy in front is the only one with public ports, and /metrics is not published.
    published = {name for name, service in services.items() if service.get("ports")}
    assert published == {"proxy", "mailpit", "bot-polling"}
    for name in ("mailpit", "bot-polling"):  # development and staging: loopback only
        assert all(str(p).startswith("127.0.0.1:") for p in services[name]["ports"]), name


def test_redis_persists_and_polling_is_a_development_profile(services: dict[str, Any]) -> None:
    command = services["redis"]["command"]
    assert command[command.index("--appendonly") + 1] == "yes"
    assert services["bot-polling"]["profiles"] == ["polling"]
    assert services["bot-polling"]["environment"]["TELEGRAM_MODE"] == "polling"
    assert "staging" in services["mailpit"]["profiles"]
    assert "profiles" not in services["bot"] and "profiles" not in services["proxy"]
