"""`accountbot workspace client ...` run as an operator would (PRODUCT §1.11)."""

from __future__ import annotations

from pathlib import Path

from tests.accountbot.test_cli import accountbot


def test_a_workspace_client_is_added_listed_rotated_and_removed(tmp_path: Path) -> None:
    env = {"DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path}/w.sqlite3"}
    assert accountbot("migrate", env=env, cwd=tmp_path).returncode == 0
    assert accountbot("workspace", "create", "shop", "Shop", env=env, cwd=tmp_path).returncode == 0

    def run(*args: str) -> str:
        done = accountbot("workspace", "client", *args, env=env, cwd=tmp_path)
        assert done.returncode == 0, done.stdout + done.stderr
        return done.stdout

    added = dict(
        line.split(": ", 1)
        for line in run(
            "add", "shop", "--redirect-uri", "https://shop.example/cb", "--subject", "pairwise"
        ).splitlines()
        if ": " in line
    )
    client_id, secret = added["client_id"], added["client_secret"]
    public = run("add", "shop", "--redirect-uri", "http://127.0.0.1:8000/cb", "--public")
    assert "client_secret" not in public

    listed = run("list")
    assert f"{client_id}\tshop\tconfidential\tpairwise\thttps://shop.example/cb" in listed
    assert "\tpublic\tpublic\thttp://127.0.0.1:8000/cb" in listed
    assert secret not in listed  # the secret is shown once, never listed

    rotated = run("rotate-secret", client_id).split(": ", 1)[1].strip()
    assert rotated and rotated != secret
    assert "Removed." in run("remove", client_id)
    assert client_id not in run("list")

    refused = accountbot(
        "workspace",
        "client",
        "add",
        "shop",
        "--redirect-uri",
        "http://shop.example/cb",
        env=env,
        cwd=tmp_path,
    )
    assert refused.returncode == 1 and "Refused" in refused.stdout


def test_a_client_notice_uri_is_set_at_add_changed_cleared_and_listed(tmp_path: Path) -> None:
    env = {"DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path}/w.sqlite3"}
    assert accountbot("migrate", env=env, cwd=tmp_path).returncode == 0
    assert accountbot("workspace", "create", "shop", "Shop", env=env, cwd=tmp_path).returncode == 0

    def run(*args: str, code: int = 0) -> str:
        done = accountbot("workspace", "client", *args, env=env, cwd=tmp_path)
        assert done.returncode == code, done.stdout + done.stderr
        return done.stdout

    added = run(
        "add",
        "shop",
        "--redirect-uri",
        "https://shop.example/cb",
        "--notice-uri",
        "https://shop.example/secevent",
    )
    client_id = added.splitlines()[0].split(": ", 1)[1]
    assert f"{client_id}\tshop\tconfidential\tpublic\thttps://shop.example/cb\t" in run("list")
    assert run("list").splitlines()[0].endswith("\thttps://shop.example/secevent")

    run("set-notice-uri", client_id, "http://127.0.0.1:9000/notices")
    assert run("list").splitlines()[0].endswith("\thttp://127.0.0.1:9000/notices")
    assert "No notices." in run("set-notice-uri", client_id)
    assert run("list").splitlines()[0].endswith("\t-")

    assert "Refused" in run("set-notice-uri", client_id, "http://shop.example/notices", code=1)
    assert "Refused" in run("set-notice-uri", "nobody", "https://x.example/n", code=1)
    refused = run(
        "add",
        "shop",
        "--redirect-uri",
        "https://shop.example/cb",
        "--notice-uri",
        "ftp://x",
        code=1,
    )
    assert "not an acceptable notice URI" in refused
