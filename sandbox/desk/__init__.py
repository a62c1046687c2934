"""The sandbox's Support desk: the support group's topics, answered as an agent at /desk."""

from sandbox.desk.pages import register_desk, support_group

__all__ = ["register_desk", "support_group"]
