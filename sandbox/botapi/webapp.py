"""Mini App launch data signed with the bot token, as Telegram's client passes it."""

from __future__ import annotations

import hashlib
import hmac
import json
from urllib.parse import quote, urlencode

from sandbox.botapi.models import User


def sign_init_data(bot_token: str, user: User, *, query_id: str, auth_date: int) -> str:
    """initData per core.telegram.org/bots/webapps "Validating data received via the Mini App"."""
    fields = {
        "auth_date": str(auth_date),
        "query_id": query_id,
        "user": json.dumps(user.to_api(), separators=(",", ":"), ensure_ascii=False),
    }
    data_check_string = "\n".join(f"{key}={fields[key]}" for key in sorted(fields))
    # secret_key = HMAC_SHA256(<bot_token>, "WebAppData"): the constant is the key.
    secret_key = hmac.new(b"WebAppData", bot_token.encode(), hashlib.sha256).digest()
    fields["hash"] = hmac.new(secret_key, data_check_string.encode(), hashlib.sha256).hexdigest()
    return urlencode(fields)


def launch_url(url: str, init_data: str) -> str:
    """The Web App URL with its launch parameters in the fragment, as Telegram opens it."""
    fragment = f"tgWebAppData={quote(init_data, safe='')}&tgWebAppVersion=8.0&tgWebAppPlatform=web"
    return f"{url.partition('#')[0]}#{fragment}"
