"""The small model shipped inside the package (built by `remogpt train all` on the built-in dataset)."""

from __future__ import annotations

import os
from pathlib import Path

SHIPPED_DIR = Path(__file__).parent / "assets" / "model"


def shipped_model_dir() -> Path | None:
    """The shipped model directory, or None when this installation has none."""
    return SHIPPED_DIR if (SHIPPED_DIR / "remogpt.json").is_file() else None


def model_dir_or_shipped(model_dir: str | os.PathLike | None, option: str = "--model") -> Path:
    """The given model directory, or the shipped one when none is given; UserInputError when neither exists."""
    from .errors import UserInputError

    directory = Path(model_dir) if model_dir is not None else shipped_model_dir()
    if directory is None:
        raise UserInputError(f"no {option} given and no shipped model is installed; train one with `remogpt train all`.")
    if not directory.exists():
        raise UserInputError(f"model directory '{directory}' does not exist.")
    return directory
