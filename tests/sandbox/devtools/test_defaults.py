"""Where `listen` and `trigger` go and with which key when told nothing, and the options
they refuse before talking to a sandbox."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from sandbox.cli import main, parser
from sandbox.spec import load_spec
from sandbox.tool_commands import LOCAL_SANDBOX, devtools_base_url, devtools_key


def test_the_default_base_url_is_where_serve_listens_by_default() -> None:
    serve = parser().parse_args(["serve"])
    trigger = parser().parse_args(["trigger", "contact.created"])
    expected = f"http://{serve.host}:{serve.port}{load_spec().base_path}"
    assert LOCAL_SANDBOX + load_spec().base_path == expected
    assert devtools_base_url(trigger) == expected


def banner_key(db_url: str, capsys: pytest.CaptureFixture[str]) -> str:
    """The first full-access key `sandbox keys` lists: the one serve's banner exports."""
    main(["keys", "--db", db_url, "--json"])
    keys = json.loads(capsys.readouterr().out)
    return next(k["key"] for k in keys if k["label"] == "Full access")


@pytest.mark.parametrize(
    ("option", "environment", "expected"),
    [
        ("sk_test_option", "sk_test_env", "sk_test_option"),
        (None, "sk_test_env", "sk_test_env"),
        (None, None, "banner"),
        (None, "", "banner"),
    ],
)
def test_the_key_is_the_option_then_the_environment_then_the_banner_key(
    sqlite_url: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    option: str | None,
    environment: str | None,
    expected: str,
) -> None:
    if environment is None:
        monkeypatch.delenv("SANDBOX_KEY", raising=False)
    else:
        monkeypatch.setenv("SANDBOX_KEY", environment)
    args = ["trigger", "contact.created", "--db", sqlite_url]
    args += ["--key", option] if option else []
    wanted = banner_key(sqlite_url, capsys) if expected == "banner" else expected
    assert devtools_key(parser().parse_args(args)) == wanted


def test_without_any_key_or_database_it_says_how_to_give_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("SANDBOX_KEY", raising=False)
    missing = f"sqlite:///{tmp_path}/nothing.db"
    with pytest.raises(SystemExit, match=r"No key: pass --key, export SANDBOX_KEY"):
        main(["listen", "--forward-to", "http://127.0.0.1:1/", "--db", missing])
    assert not (tmp_path / "nothing.db").exists()  # looking did not create a database


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--events", "payment.lost"], "--events: no event type payment.lost; the types: "),
        (["--base-url", "127.0.0.1:8080/api/v1"], "is not an http:// or https:// URL"),
    ],
)
def test_listen_refuses_what_it_cannot_follow(args: list[str], message: str) -> None:
    with pytest.raises(SystemExit, match=message):
        main(["listen", "--forward-to", "http://127.0.0.1:1/", "--key", "sk_test_x", *args])


def test_listen_refuses_a_forward_url_that_is_no_url() -> None:
    with pytest.raises(SystemExit, match="--forward-to localhost:3000 is not an http"):
        main(["listen", "--forward-to", "localhost:3000", "--key", "sk_test_x"])


def test_trigger_without_an_event_says_how_to_list_them() -> None:
    with pytest.raises(SystemExit, match=r"name an EVENT \(sandbox trigger --list"):
        main(["trigger", "--key", "sk_test_x"])
