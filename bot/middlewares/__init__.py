"""Middlewares: who the person is, their language, duplicates, and the error safety net."""
