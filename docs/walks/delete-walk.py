"""A person's walk in `make sandbox` (flood limits on, ~1 s pace): sign in, bind an email,
/language in the middle of a step, delete the account, come back as a newcomer, and a second
person binds the freed email. Screenshots in artifacts/screenshots/delete-walk-<lang>-NN-<name>.png.

Run `make sandbox SANDBOX_ARGS="--port 8765"`, then
`.venv/bin/python docs/walks/delete-walk.py http://127.0.0.1:8765 ru` (or `en`)."""

import asyncio
import contextlib
import re
import secrets
import sys
from pathlib import Path

from playwright.async_api import TimeoutError as PlaywrightTimeout
from playwright.async_api import async_playwright

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # the checkout
from core.i18n import translator

URL = sys.argv[1]
LANG = sys.argv[2]
OTHER = "en" if LANG == "ru" else "ru"
SHOTS = Path("artifacts/screenshots")
SHOTS.mkdir(parents=True, exist_ok=True)
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
PACE = 1.0
# The bot's messages, as the catalogs have them (only their openings are matched).
CREATE_ONE = (
    "Create a password: at least {n} characters. A few unrelated words are easy to remember and "
    "hard to guess."
)
LETTER_SENT = (
    "I sent a letter to {email}. Press the button in it, or send me the 6-digit code from it."
)
ASK_NUMBER = (
    "Send the mobile number you want to sign in with, for example +7 912 345-67-89, or share "
    "your Telegram number with the button below."
)
DELETED = (
    "Your account has been deleted: its email, phone, sign-ins and password are gone, and this "
    "chat is signed out. To start again as a new user: /start"
)
n = 0


def w(lang, s):
    return re.sub(r"<[^>]+>", "", translator(lang).gettext(s))


def head(lang, s, cut="{"):
    return w(lang, s).split(cut)[0].strip()


async def shot(page, name):
    global n
    n += 1
    await page.screenshot(path=str(SHOTS / f"delete-walk-{LANG}-{n:02d}-{name}.png"))


class Chat:
    def __init__(self, page, lang):
        self.p, self.lang = page, lang

    async def see(self, text, wait_ms=60_000):
        await self.p.locator(".bubble", has_text=text).last.wait_for(timeout=wait_ms)

    async def tap(self, label):
        await asyncio.sleep(PACE)
        b = self.p.locator(".inline-keyboard button", has_text=label).last
        await b.wait_for(timeout=30_000)
        await b.click()

    async def type(self, text):
        await asyncio.sleep(PACE)
        await self.p.fill("#text", text)
        await self.p.press("#text", "Enter")


async def code_from_mailbox(ctx, address):
    page = await ctx.new_page()
    await page.goto(f"{URL}/mailbox")
    await page.locator("a", has_text=address).first.click()
    await page.wait_for_load_state()
    text = await page.inner_text("body")
    await page.close()
    return re.search(r"\b(\d{6})\b", text).group(1)


async def new_person(ctx, name, lang):
    page = await ctx.new_page()
    await page.set_viewport_size({"width": 420, "height": 860})
    await page.goto(f"{URL}/chat")
    dialog = page.locator("#person-dialog[open]")
    if not await dialog.count():
        await page.click("#new-person")
    await dialog.wait_for()
    await page.fill("#person-form input[name=first_name]", name)
    await page.select_option("#person-form select[name=language_code]", lang)
    await page.click("#person-form button[value=create]")
    await page.click("#start")
    return Chat(page, lang)


async def sign_in(ctx, chat, name, lang):
    label = w(lang, "Sign in with {provider}").format(provider="Dev ID")
    await chat.p.locator(".inline-keyboard button", has_text=label).last.wait_for(timeout=60_000)
    async with chat.p.context.expect_page() as opened:
        await chat.tap(label)
    prov = await opened.value
    await prov.wait_for_load_state()
    await prov.fill("input[name=name]", name)
    await prov.click("button[type=submit]")
    await prov.locator("button[value=confirm]").wait_for()
    await prov.click("button[value=confirm]")
    await prov.wait_for_load_state()
    await prov.close()
    await chat.see(w(lang, "<b>Your account</b>"))


async def bind_email(ctx, chat, lang, address, password):
    await chat.tap(w(lang, "Bind email"))
    await chat.see(head(lang, "Send the email address you want to sign in with."))
    await chat.type(address)
    cont = chat.p.locator(".inline-keyboard button", has_text=w(lang, "Continue »")).last
    with contextlib.suppress(PlaywrightTimeout):  # the workspaces question, when there are some
        await cont.wait_for(timeout=8_000)
        await asyncio.sleep(PACE)
        await cont.click()
    await chat.see(head(lang, CREATE_ONE), wait_ms=20_000)
    await chat.type(password)
    await chat.see(head(lang, LETTER_SENT))
    await chat.type(await code_from_mailbox(ctx, address))
    await chat.see(
        head(lang, "Email bound. You can now sign in with {email} and your password.", ".")
    )


async def main():
    async with async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path="/usr/bin/chromium", args=FLAGS)
        ctx = await browser.new_context(locale="en-US")
        tag = secrets.token_hex(2)  # a new social account each walk
        address = f"walker.{LANG}.{tag}@example.com"
        name = {"ru": "Ирина", "en": "Irene"}[LANG]
        chat = await new_person(ctx, name, LANG)
        await sign_in(ctx, chat, f"{name} Walker {tag}", LANG)
        await shot(chat.p, "card")
        await bind_email(ctx, chat, LANG, address, "kettle under the violet moon")
        await shot(chat.p, "email-bound")
        # /language in the middle of the phone step
        await chat.tap(w(LANG, "Bind phone"))
        await chat.see(head(LANG, ASK_NUMBER, ","))
        await chat.type("/language")
        await chat.see(w(LANG, "Choose the language:"))
        await chat.tap({"ru": "Русский", "en": "English"}[OTHER])
        await asyncio.sleep(3)
        await shot(chat.p, "language-mid-step")
        await chat.type("/language")
        await chat.see(w(OTHER, "Choose the language:"))
        await chat.tap({"ru": "Русский", "en": "English"}[LANG])
        await asyncio.sleep(2)
        await chat.type("/cancel")
        await chat.see(w(LANG, "<b>Your account</b>"))
        # delete the account
        await chat.tap(w(LANG, "Delete account"))
        await chat.see(head(LANG, "To confirm, I will send you a code."))
        await shot(chat.p, "delete-warning")
        await chat.tap(head(LANG, "Send a code to {address}"))
        await chat.see(
            head(
                LANG, "I sent a code to {address}. Send it here, and your account will be deleted."
            )
        )
        await shot(chat.p, "delete-code-sent")
        await chat.type(await code_from_mailbox(ctx, address))
        await chat.see(head(LANG, DELETED, ":"))
        await shot(chat.p, "deleted")
        mb = await ctx.new_page()
        await mb.set_viewport_size({"width": 420, "height": 860})
        await mb.goto(f"{URL}/mailbox")
        await mb.locator("a", has_text=address).first.click()
        await mb.wait_for_load_state()
        await shot(mb, "deleted-letter")
        await mb.close()
        await chat.type("/start")
        await asyncio.sleep(3)
        await shot(chat.p, "newcomer-again")
        # someone else binds the freed email
        other = await new_person(ctx, {"ru": "Олег", "en": "Oliver"}[LANG], LANG)
        await sign_in(ctx, other, f"Oliver Other {tag}", LANG)
        await bind_email(ctx, other, LANG, address, "another kettle under the moon")
        await shot(other.p, "freed-email-bound-by-another")
        await browser.close()
        print("walk ok", LANG)


asyncio.run(main())
