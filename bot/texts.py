"""What the bot says that more than one router needs: the card, step headers, error messages.

Every string goes through gettext; `_("... {name}").format(...)`, never an f-string inside `_()`.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from html import escape

from aiogram.utils.i18n import gettext as _
from aiogram.utils.i18n import ngettext

from core import errors
from core.domain.addresses import mask
from core.domain.models import AccountView

PROVIDER_TITLES = {
    "google": "Google",
    "vk": "VK ID",
    "yandex": "Yandex ID",
    "github": "GitHub",
    "oidc": "OpenID Connect",
    "dev": "Dev ID",
}


def step(number: int, total: int) -> str:
    return _("Step {number} of {total}").format(number=number, total=total)


def with_step(number: int, total: int, text: str) -> str:
    """The step header, when there is more than one step: never "Step 1 of 1"."""
    if total <= 1:
        return text
    return f"<i>{step(number, total)}</i>\n{text}"


def seconds(delta: timedelta) -> str:
    """A wait in the one natural unit every answer uses (PRODUCT §1.9): seconds under a minute,
    then whole minutes, then whole hours, rounded up so the time said is never too early."""
    value = max(1, math.ceil(delta.total_seconds()))
    if value < 60:
        return ngettext("{n} second", "{n} seconds", value).format(n=value)
    minutes = math.ceil(value / 60)
    if minutes < 90:
        return ngettext("{n} minute", "{n} minutes", minutes).format(n=minutes)
    hours = math.ceil(minutes / 60)
    return ngettext("{n} hour", "{n} hours", hours).format(n=hours)


def moment(at: datetime) -> str:
    """A deadline as a clock time the person can plan by, in UTC ("at 14:05 UTC")."""
    return _("{time} UTC").format(time=at.astimezone(UTC).strftime("%H:%M"))


LONG_WAIT = timedelta(hours=1)  # from here on, a wait is said with its clock time too


def wait(until: datetime, now: datetime) -> str:
    """How long until a stored deadline, read against the clock now (PRODUCT §1.9): "in 40
    seconds", "in 2 minutes"; a wait over an hour also says until when, in UTC, the one time
    zone known for everyone ("in 23 hours, at 14:05 UTC")."""
    left = until - now
    if left <= LONG_WAIT:
        return _("in {wait}").format(wait=seconds(left))
    return _("in {wait}, at {time}").format(wait=seconds(left), time=moment(until))


def cap_reached(until: datetime, now: datetime) -> str:
    """A cap on codes (PRODUCT §1.9) is a rolling window: say when the next code can go out."""
    return _("Too many codes in a row. You can ask for a new one {wait}.").format(
        wait=wait(until, now)
    )


def card(
    view: AccountView,
    *,
    oidc_name: str = PROVIDER_TITLES["oidc"],
    workspaces: Sequence[str] = (),
) -> str:
    """The account card (PRODUCT §1.2); addresses masked, as it may be seen over a shoulder.

    `oidc_name` is OIDC_NAME: the generic issuer is called on the card what its button says.
    `workspaces`: the titles of the workspaces the account signed in to (PRODUCT §1.11).
    """
    titles = {**PROVIDER_TITLES, "oidc": oidc_name}
    methods = ", ".join(f"{escape(titles.get(i.provider, i.provider))} ✓" for i in view.identities)
    if view.email:
        email = _("Email: {address} ✓").format(address=mask(view.email.address))
    elif view.pending_email:
        email = _("Email: {address}, waiting for confirmation").format(
            address=mask(view.pending_email.address)
        )
    else:
        email = _("Email: not bound")
    if view.phone:
        phone = _("Phone: {address} ✓").format(address=mask(view.phone.address))
    elif view.pending_phone:
        phone = _("Phone: {address}, waiting for the code").format(
            address=mask(view.pending_phone.address)
        )
    else:
        phone = _("Phone: not bound")
    lines = [
        _("<b>Your account</b>"),
        _("Name: {name}").format(name=escape(view.account.name)),
        _("Sign-in with: {methods}").format(methods=methods or "—"),
        email,
        phone,
        _("Password: set") if view.has_password else _("Password: not set"),
    ]
    if workspaces:
        names = ", ".join(escape(title) for title in workspaces)
        lines.append(_("Signed in to: {workspaces}").format(workspaces=names))
    tip = card_tip(view)
    if tip:
        lines += ["", tip]
    return "\n".join(lines)


def card_tip(view: AccountView) -> str | None:
    """What is missing to sign in without the social network, as it stands (PRODUCT §1.2)."""
    login = bool(view.email or view.phone)
    if login and view.has_password:
        return None
    if view.has_password:  # a password with no login to go with it (its login was unbound)
        return _(
            "Your password has no login to go with it: bind an email or a phone to sign in with "
            "them and the password."
        )
    return _(
        "Bind an email or a phone and create a password to sign in without the social network."
    )


def explain(error: errors.DomainError, now: datetime | None = None) -> str:
    """The one place a domain error becomes words for the person. `now` (the services' clock)
    is what a refusal with a deadline is read against; without it the deadline's clock time
    is said."""
    match error:
        case errors.InvalidEmail(reason="too_long"):
            return _("This address is too long. Please send another one.")
        case errors.InvalidEmail(reason="domain"):
            return _("This address has a mistake after the @. Please check it and send it again.")
        case errors.InvalidEmail():
            return _("This does not look like an email address, for example name@example.com.")
        case errors.InvalidPhone(reason="not_mobile"):
            return _("This is not a mobile number. Codes come by SMS, so send a mobile one.")
        case errors.InvalidPhone(reason="not_a_number"):
            return _("There is no such number. Please check the digits, with the country code.")
        case errors.InvalidPhone():
            return _("This does not look like a phone number, for example +7 912 345-67-89.")
        case errors.AddressAlreadyYours():
            return _("This address is already bound to your account.")
        case errors.CodeInvalid(attempts_left=0):
            return _("Wrong code, and that was the last attempt. Ask for a new code.")
        case errors.CodeInvalid(attempts_left=left):
            return ngettext(
                "Wrong code. {n} attempt left.", "Wrong code. {n} attempts left.", left
            ).format(n=left)
        case errors.CodeExpired():
            return _("This code has expired or was already used. Ask for a new one.")
        case errors.ResendTooSoon(retry_in=left, until=until):
            if until is not None and now is not None:
                return _("A new code can be sent {wait}.").format(wait=wait(until, now))
            return _("A new code can be sent in {time}.").format(time=seconds(left))
        case errors.LimitReached(until=until, what="passwords"):
            if now is not None:
                return _("Too many wrong passwords. You can try again {wait}.").format(
                    wait=wait(until, now)
                )
            return _("Too many wrong passwords. You can try again at {time}.").format(
                time=moment(until)
            )
        case errors.LimitReached(until=until):
            if now is not None:
                return cap_reached(until, now)
            return _("Too many codes in a row. You can ask for a new one at {time}.").format(
                time=moment(until)
            )
        case errors.WeakPassword(reason="too_short", limit=limit):
            return ngettext(
                "Too short: at least {n} character.", "Too short: at least {n} characters.", limit
            ).format(n=limit)
        case errors.WeakPassword(reason="too_long", limit=limit):
            return _("Too long: at most {n} characters.").format(n=limit)
        case errors.WeakPassword(reason="common"):
            return _("This password is among the most common ones and easy to guess.")
        case errors.WeakPassword():
            return _("The password must not be your name, email or phone.")
        case errors.LastSignInMethod():
            return _("This is your last way to sign in, so it cannot be removed.")
        case errors.WrongPassword():
            return _("That password does not match. Try again or use the code instead.")
        case errors.Throttled() | errors.AuthenticationFailed():
            return _("Too many attempts. Please wait a little and try again.")
        case errors.FeatureDisabled():
            return _("This is not available here yet.")
        case errors.NothingPending():
            return _("There is nothing to confirm right now. Let's start over: /me")
        case errors.NotSignedIn():
            return _("Please sign in first: /start")
        case errors.Unavailable():
            return unavailable()
        case errors.Busy():
            return _("Too many requests at once right now. Please try again in a few seconds.")
    return _("Something went wrong. Please try again.")


def unavailable() -> str:
    return _("The service is temporarily unavailable. Please try again in a minute.")


def deleted_password() -> str:
    return _("I deleted your message with the password, so it does not stay in the chat.")


def deleted_to_be_safe() -> str:
    """A restart during an outage: the step is unknown, the message might be a password."""
    return _(
        "I could not check whether your message held a password, so I deleted it to be safe. "
        "Please send it again in a minute."
    )


def stale_button() -> str:
    """A button from an old message, or forged callback data (PRODUCT §3)."""
    return _("This button is no longer active. Send /me for a fresh menu.")


def signed_out_of(workspace: str) -> str:
    """Said above the card once the person signed out of a workspace (PRODUCT §1.11)."""
    text = _("Signed out of {workspace}. Signing in there again asks for your consent anew.")
    return text.format(workspace=escape(workspace))
