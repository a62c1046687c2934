"""The Telegram layer: aiogram routers, keyboards, middlewares and the notifier."""
