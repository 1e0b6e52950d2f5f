"""`remogpt` commands for the synth part."""

from .app import app  # noqa: F401
