"""The small model shipped inside the package (built by `remogpt train all` on the built-in dataset)."""

from __future__ import annotations

from pathlib import Path

SHIPPED_DIR = Path(__file__).parent / "assets" / "model"


def shipped_model_dir() -> Path | None:
    """The shipped model directory, or None when this installation has none."""
    return SHIPPED_DIR if (SHIPPED_DIR / "remogpt.json").is_file() else None
