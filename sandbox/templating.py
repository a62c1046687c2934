"""The sandbox's pages, from the Jinja2 templates in sandbox/templates (autoescaped).

The sandbox's own pages are in English; the dev IdP's page (a page of the product's sign-in)
is translated through the product's catalogs, so it picks the reader's language.
"""

from __future__ import annotations

from functools import cache
from html import escape
from pathlib import Path
from typing import Any

from aiohttp import web
from jinja2 import Environment, FileSystemLoader, StrictUndefined
from markupsafe import Markup

from core.i18n import translator

TEMPLATES_DIR = Path(__file__).parent / "templates"


@cache
def environment(locale: str = "en") -> Environment:
    """The templates with one locale's gettext installed; every template is autoescaped."""
    env = Environment(
        loader=FileSystemLoader(TEMPLATES_DIR),
        autoescape=True,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        extensions=["jinja2.ext.i18n"],
    )
    env.filters["srcdoc"] = srcdoc
    env.install_gettext_translations(translator(locale), newstyle=False)  # type: ignore[attr-defined]
    return env


def srcdoc(document: str) -> Markup:
    """A whole HTML document for an iframe's srcdoc attribute, escaped as html.escape does."""
    return Markup(escape(document, quote=True))  # noqa: S704 - escaped on the line itself


def render(template: str, /, *, locale: str = "en", **context: Any) -> str:
    return environment(locale).get_template(template).render(locale=locale, **context)


def page(
    template: str, /, *, status: int = 200, locale: str = "en", **context: Any
) -> web.Response:
    """An HTML response from a template of sandbox/templates."""
    html = render(template, **context)
    return web.Response(text=html, status=status, content_type="text/html")
