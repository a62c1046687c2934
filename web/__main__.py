"""Run the web server alone: `python -m web` (the bot usually serves it in its own process)."""

from __future__ import annotations

import logging
import sys

from aiohttp import web
from pydantic import ValidationError

from core.bootstrap import build_services
from core.settings import describe_error, load_settings
from web.app import create_web_app
from web.security import MaskedAccessLogger


def main() -> None:
    try:
        settings = load_settings()
    except ValidationError as error:
        sys.exit(describe_error(error))
    logging.basicConfig(level=settings.log_level)
    services = build_services(settings)
    app = create_web_app(services)

    async def close(_app: web.Application) -> None:
        await services.close()

    app.on_cleanup.append(close)
    web.run_app(
        app,
        host=settings.web_host,
        port=settings.web_port,
        access_log_class=MaskedAccessLogger,
        print=None,
    )


if __name__ == "__main__":
    main()
