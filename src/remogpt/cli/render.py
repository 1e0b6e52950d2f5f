"""`remogpt` commands for the render part (see remogpt.render)."""

from .app import app  # noqa: F401
