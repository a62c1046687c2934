"""The local Telegram stand-in: a Bot API server, chat page, mailbox, SMS outbox and desk."""
