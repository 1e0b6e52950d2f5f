"""`remogpt` commands for the evaluation part."""

from .app import app  # noqa: F401
