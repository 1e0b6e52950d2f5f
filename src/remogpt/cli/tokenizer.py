"""`remogpt` commands for the tokenizer part."""

from .app import app  # noqa: F401
