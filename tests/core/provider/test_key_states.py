"""Which signing key signs, which are published and until when (PRODUCT §1.11): the rule alone."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from core.provider.models import SigningKey
from core.provider.service import KeyState, key_states

T0 = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)
TOKEN = timedelta(minutes=10)
DAY = timedelta(days=1)


def key(kid: str, created: timedelta, signs: timedelta) -> SigningKey:
    return SigningKey(kid=kid, jwk={}, created_at=T0 + created, signs_from=T0 + signs)


def states(keys: list[SigningKey], at: timedelta) -> list[tuple[str, KeyState, datetime | None]]:
    return [(s.key.kid, s.state, s.until) for s in key_states(keys, T0 + at, TOKEN)]


def test_a_routine_rotation_publishes_ahead_then_signs_then_retires_until_its_tokens_expired() -> (
    None
):
    first = key("a", timedelta(0), timedelta(0))
    nxt = key("b", timedelta(hours=1), timedelta(hours=1) + DAY)
    keys = [nxt, first]  # the order of the store does not matter
    assert states(keys, timedelta(hours=2)) == [
        ("a", KeyState.SIGNING, None),
        ("b", KeyState.AHEAD, T0 + timedelta(hours=1) + DAY),
    ]
    swap = timedelta(hours=1) + DAY
    assert states(keys, swap) == [
        ("a", KeyState.RETIRING, T0 + swap + TOKEN),  # its last token, signed just before
        ("b", KeyState.SIGNING, None),
    ]
    assert states(keys, swap + TOKEN - timedelta(seconds=1))[0][1] is KeyState.RETIRING
    assert states(keys, swap + TOKEN)[0][1] is KeyState.EXPIRED


def test_of_keys_due_at_the_same_instant_the_one_added_last_signs() -> None:
    keys = [key("a", timedelta(0), timedelta(0)), key("b", timedelta(seconds=1), timedelta(0))]
    assert [s[:2] for s in states(keys, timedelta(seconds=1))] == [
        ("a", KeyState.RETIRING),
        ("b", KeyState.SIGNING),
    ]


def test_a_key_stops_signing_when_the_next_one_starts_whatever_retired_at_says() -> None:
    first = key("a", timedelta(0), timedelta(0))
    nxt = key("b", timedelta(0), timedelta(hours=2))
    retired = SigningKey(
        kid="a",
        jwk={},
        created_at=first.created_at,
        signs_from=first.signs_from,
        retired_at=T0 + timedelta(hours=3),  # recorded by a prune that ran late
    )
    assert states([retired, nxt], timedelta(hours=2, minutes=5))[0] == (
        "a",
        KeyState.RETIRING,
        T0 + timedelta(hours=2) + TOKEN,
    )


def test_a_lone_key_signs_and_no_key_means_none() -> None:
    assert states([key("a", timedelta(0), timedelta(0))], DAY) == [("a", KeyState.SIGNING, None)]
    assert states([], DAY) == []
