"""The support handoff's machinery: the desk, its send queue, topics, the card and redaction."""
