"""Implementations of the ports in core/ports.py."""
