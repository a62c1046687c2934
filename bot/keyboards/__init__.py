"""Keyboards, built with aiogram's builders; button texts go through gettext."""
