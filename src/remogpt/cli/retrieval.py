"""`remogpt` commands for the retrieval part."""

from .app import app  # noqa: F401
