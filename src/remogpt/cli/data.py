"""`remogpt` commands for the data part (see remogpt.data)."""

from .app import app  # noqa: F401
