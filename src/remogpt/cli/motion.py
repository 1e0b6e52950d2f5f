"""`remogpt` commands for the motion part (see remogpt.motion)."""

from .app import app  # noqa: F401
