"""The product ships alone: its wheel holds no sandbox and needs no SMTP stand-in.

The sandbox is a distribution of its own (sandbox/pyproject.toml); `accountbot sandbox` says how
to install it when it is missing.
"""

from __future__ import annotations

import email
import os
import shutil
import subprocess
import sys
import tomllib
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
# What a build needs and nothing it writes or caches: a copy keeps the shared tree clean.
SKIP = shutil.ignore_patterns(
    ".git", ".venv", "var", "artifacts", "build", "dist", "node_modules", "__pycache__",
    "*.egg-info", ".mypy_cache", ".ruff_cache", ".pytest_cache", ".hypothesis", "tests", "bench",
)  # fmt: skip


def build_wheel(project: Path, out: Path) -> zipfile.ZipFile:
    """`pip wheel` offline: no dependencies fetched, the installed setuptools builds it."""
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "--quiet",
         "--wheel-dir", str(out), str(project)],
        check=True, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    (wheel,) = out.glob("*.whl")
    return zipfile.ZipFile(wheel)


@pytest.fixture(scope="module")
def source(tmp_path_factory: pytest.TempPathFactory) -> Path:
    tree = tmp_path_factory.mktemp("source") / "accountbot"
    shutil.copytree(ROOT, tree, ignore=SKIP)
    return tree


@pytest.fixture(scope="module")
def product(source: Path, tmp_path_factory: pytest.TempPathFactory) -> zipfile.ZipFile:
    return build_wheel(source, tmp_path_factory.mktemp("product"))


def requirements(wheel: zipfile.ZipFile) -> list[str]:
    (name,) = [n for n in wheel.namelist() if n.endswith(".dist-info/METADATA")]
    return email.message_from_bytes(wheel.read(name)).get_all("Requires-Dist") or []


def test_the_production_wheel_holds_no_sandbox(product: zipfile.ZipFile) -> None:
    names = product.namelist()
    tops = {name.split("/")[0] for name in names if not name.split("/")[0].endswith(".dist-info")}
    assert tops == {"accountbot", "bot", "core", "web"}
    assert not [name for name in names if name.startswith("sandbox/")]
    # Nor a development double: the dev identity provider, its client, the SMS outbox.
    doubles = ("web/idp/", "web/providers/dev.py", "core/adapters/capture.py")
    assert not [name for name in names if name.startswith(doubles)]
    assert not [name for name in names if "idp" in name or "capture" in name or "outbox" in name]
    # The production start-up is there, and it no longer carries the sandbox's assembly.
    runner = product.read("accountbot/runner.py").decode()
    assert "run_production" in runner
    assert "from sandbox" not in runner
    assert "import sandbox" not in runner


def test_the_production_wheel_needs_no_smtp_stand_in(product: zipfile.ZipFile) -> None:
    needed = requirements(product)
    assert any(r.startswith("aiogram") for r in needed)  # the metadata was read
    unconditional = [r for r in needed if "extra ==" not in r]
    assert not [r for r in unconditional if r.lower().startswith("aiosmtpd")]


def test_the_sandbox_wheel_holds_the_whole_sandbox(
    source: Path, tmp_path_factory: pytest.TempPathFactory
) -> None:
    # Every file of the sandbox package (code, pages, scripts, styles), none left behind.
    expected = {
        "sandbox/" + path.relative_to(source / "sandbox").as_posix()
        for path in (source / "sandbox").rglob("*")
        if path.is_file() and path.name != "pyproject.toml"
    }
    wheel = build_wheel(source / "sandbox", tmp_path_factory.mktemp("sandbox"))
    names = set(wheel.namelist())
    assert expected - names == set()
    assert "sandbox/stack.py" in names
    assert any(r.startswith("aiosmtpd") for r in requirements(wheel))
    assert any(r.startswith("accountbot") for r in requirements(wheel))


def test_every_sandbox_folder_is_a_listed_package() -> None:
    config = tomllib.loads((ROOT / "sandbox" / "pyproject.toml").read_text())
    listed = set(config["tool"]["setuptools"]["packages"])
    folders = {
        ".".join(("sandbox", *path.relative_to(ROOT / "sandbox").parts))
        for path in [ROOT / "sandbox", *(ROOT / "sandbox").rglob("*")]
        if path.is_dir()
        and path.name not in {"__pycache__", "templates"}
        and "templates" not in path.relative_to(ROOT / "sandbox").parts
        and not path.name.endswith(".egg-info")
        and any(child.is_file() for child in path.iterdir())
    }
    assert folders - listed == set()


def dockerfile_stages() -> list[list[str]]:
    """The Dockerfile's stages, each its instructions (comments left out, continuations joined)."""
    text = (ROOT / "Dockerfile").read_text().replace("\\\n", " ")
    stages: list[list[str]] = []
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        if line.upper().startswith("FROM "):
            stages.append([])
        assert stages, "an instruction before the first FROM"
        stages[-1].append(line)
    return stages


def test_the_image_installs_the_product_alone() -> None:
    stages = dockerfile_stages()
    assert len(stages) >= 2  # a stage builds the wheels, the last one only installs them
    every = [line for stage in stages for line in stage]
    copies = [line for line in every if line.startswith("COPY") and "--from" not in line]
    assert [line for line in copies if line.startswith("COPY core")]  # the file was read
    for line in copies:  # no stage takes the sandbox, the tests or anything else unbuilt
        assert not {"sandbox", "tests", "bench", "."} & set(line.split()[1:-1]), line
    assert not [line for line in every if "aiosmtpd" in line or "[dev]" in line]
    final = stages[-1]
    installs = [line for line in final if "pip install" in line]
    assert installs and all("--no-index --find-links /wheels accountbot" in i for i in installs)
    assert not [line for line in final if line.startswith("COPY") and "--from" not in line]
    assert "pybabel compile" in " ".join(stages[0])  # catalogs compiled, copied to the last
    assert [line for line in final if "locales" in line and "LOCALES_DIR" in " ".join(final)]
    user = [line for line in final if line.startswith("USER")]
    assert user and user[-1].split()[1] not in {"root", "0"}
    assert [line for line in final if line.startswith("HEALTHCHECK") and "/livez" in line]
    command = [line for line in final if line.startswith(("CMD", "ENTRYPOINT"))]
    assert command and "migrate" not in " ".join(command)  # a job of its own migrates


def test_the_build_context_leaves_out_secrets_and_the_sandbox() -> None:
    ignored = set((ROOT / ".dockerignore").read_text().split())
    assert {".env", ".git", ".venv", "sandbox", "tests", "var"} <= ignored


def test_the_cli_says_how_to_install_a_missing_sandbox() -> None:
    # `sys.modules[name] = None` makes the import fail as it does when the package is absent.
    script = (
        "import sys; sys.modules['sandbox'] = None; from accountbot.cli import main; "
        "sys.exit(main(['sandbox']))"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=60, cwd=ROOT
    )
    assert done.returncode == 2
    assert "pip install -e ./sandbox" in done.stderr
    assert "make sandbox" in done.stderr
    assert "Traceback" not in done.stderr


def without_sandbox(argv: list[str], **env: str) -> subprocess.CompletedProcess[str]:
    """`accountbot <argv>` as if the sandbox's distribution were not installed."""
    script = (
        "import sys; sys.modules['sandbox'] = None; from accountbot.cli import main; "
        f"sys.exit(main({argv!r}))"
    )
    environment = {"PATH": os.environ.get("PATH", ""), **env}
    return subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True, text=True, timeout=60, cwd=ROOT, env=environment,
    )  # fmt: skip


def test_the_dev_identity_provider_needs_the_sandbox() -> None:
    done = without_sandbox(
        ["run"],
        BOT_TOKEN="1:test",
        SECRET_KEY="k" * 40,
        PUBLIC_URL="http://127.0.0.1:8080",
        DEV_IDP_ENABLED="true",
    )
    assert done.returncode == 2
    assert "DEV_IDP_ENABLED" in done.stderr and "pip install -e ./sandbox" in done.stderr
    assert "Traceback" not in done.stderr


def test_the_product_refuses_the_sandboxs_settings_without_it(tmp_path: Path) -> None:
    from core.bootstrap import build_services
    from core.settings import Settings
    from web.app import create_web_app

    values = {"bot_token": "1:test", "secret_key": "k" * 40, "public_url": "http://127.0.0.1:1"}
    database = f"sqlite+aiosqlite:///{tmp_path}/x.sqlite3"
    outbox = Settings(_env_file=None, sms_backend="outbox", database_url=database, **values)  # type: ignore[call-arg]
    with pytest.raises(ValueError, match="SMS_BACKEND=outbox needs the sandbox"):
        build_services(outbox)
    dev = Settings(_env_file=None, dev_idp_enabled=True, database_url=database, **values)  # type: ignore[call-arg]
    with pytest.raises(ValueError, match="DEV_IDP_ENABLED needs the sandbox"):
        create_web_app(build_services(dev))
