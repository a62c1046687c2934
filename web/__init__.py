"""The web server: OAuth callbacks, email links, the secure password page, sign-in, webhook."""
