"""The process entry: the `accountbot` command that runs the bot, the web server or the sandbox."""
