"""The web server's handlers, one module per user goal."""
