from __future__ import annotations

import json
import logging

import pytest

from accountbot.logs import JsonFormatter, Redact, redact


@pytest.mark.parametrize(
    ("raw", "hidden", "shown"),
    [
        ("sent to ivan.petrov@gmail.com", "ivan.petrov", "i***@gmail.com"),
        ("phone +7 912 345-67-89 bound", "912 345", "+7 *** ***-67-89"),
        ("code 123456 typed", "123456", "[code]"),
        ("link /email/confirm/AbCdEfGhIjKlMnOpQrStUvWxYz0123456789_-", "AbCdEf", "[token]"),
        ("bot 100200300:AAFakeTokenForTestsOnly12345", "AAFake", "[bot-token]"),
    ],
)
def test_secrets_and_addresses_never_reach_the_log(raw: str, hidden: str, shown: str) -> None:
    assert hidden not in redact(raw)
    assert shown in redact(raw)


def test_records_are_json_with_extras_and_redacted_arguments() -> None:
    record = logging.makeLogRecord(
        {"msg": "letter to %s", "args": ("ivan@example.com",), "levelname": "INFO", "name": "x"}
    )
    record.update_id = 42
    record.to = "ivan@example.com"

    Redact().filter(record)
    line = json.loads(JsonFormatter().format(record))

    assert line["message"] == "letter to i***@example.com"
    assert line["update_id"] == 42
    assert line["to"] == "i***@example.com"
