"""What a model must offer to be evaluated, and how `--model DIR` becomes such a model.

A model directory names its kind in `config.json` under `model_type`. MODEL_LOADERS maps each kind to a
"module:callable" that takes the directory (and keyword `device`) and returns an object with `generate` and/or
`caption`. The language model plugs in by adding one line here (or by calling `register_model_type`).
"""

from __future__ import annotations

import importlib
import os
from pathlib import Path
from typing import Any, Callable, Protocol, Sequence, runtime_checkable

import numpy as np

from ..errors import UserInputError
from ..pretrained import CONFIG_NAME, read_json


@runtime_checkable
class MotionGenerator(Protocol):
    def generate(
        self, texts: Sequence[str], lengths: Sequence[int] | None = None, num_samples: int = 1
    ) -> list[np.ndarray]:
        """Raw (not normalised) features (T, D) for every text, `num_samples` each, text-major:
        result[i * num_samples + s] is sample s of texts[i]. `lengths` (frames) are the ground-truth lengths a
        length-conditioned model may use; a model that decides its own length ignores them."""


@runtime_checkable
class MotionCaptioner(Protocol):
    def caption(self, motions: Sequence[np.ndarray]) -> list[str]:
        """One caption per raw feature array (T, D)."""


class ReferenceRows(Protocol):
    """Optional: rows that place a model against its own parts, evaluated beside it (t2m.py, m2t.py).

    `reconstruct(motions)` -> the motions through the model's tokenizer and back ("tokenizer reconstruction");
    `retrieve_motions(texts)` -> the top-1 text->motion reference per text, and `retrieve_captions(motions)` -> the
    top-1 motion->text reference's caption per motion ("retrieval only"); either returns None when the model has no
    database. A model offers any subset of the three methods.
    """

    def reconstruct(self, motions: Sequence[np.ndarray]) -> list[np.ndarray]: ...

    def retrieve_motions(self, texts: Sequence[str]) -> list[np.ndarray] | None: ...

    def retrieve_captions(self, motions: Sequence[np.ndarray]) -> list[str] | None: ...


# model_type -> "module:callable(directory, device=...)"; the callable returns a MotionGenerator/MotionCaptioner.
MODEL_LOADERS: dict[str, str] = {
    "evaluation-stand-in": "remogpt.evaluation.standin:StandInModel.from_directory",
    "remogpt-language-model": "remogpt.pipeline:ReMoGPT.from_pretrained",
}


def register_model_type(model_type: str, loader: str | Callable[..., Any]) -> None:
    """Make `--model DIR` understand directories whose config.json says `model_type`."""
    MODEL_LOADERS[model_type] = loader  # type: ignore[assignment]


def _resolve(loader: str | Callable[..., Any]) -> Callable[..., Any]:
    if callable(loader):
        return loader
    module_name, _, attribute = loader.partition(":")
    target: Any = importlib.import_module(module_name)
    for part in attribute.split("."):
        target = getattr(target, part)
    return target


def load_model(directory: str | os.PathLike, device: str = "cpu") -> Any:
    """Load whatever model a directory holds, by the `model_type` in its config.json."""
    directory = Path(directory)
    if not (directory / CONFIG_NAME).is_file():
        raise UserInputError(f"--model '{directory}' has no {CONFIG_NAME}; expected a saved model directory.")
    model_type = str(read_json(directory / CONFIG_NAME).get("model_type", ""))
    loader = MODEL_LOADERS.get(model_type)
    if loader is None:
        raise UserInputError(
            f"--model '{directory}' holds a '{model_type}' model, which cannot be evaluated "
            f"(known: {', '.join(sorted(MODEL_LOADERS))})."
        )
    return _resolve(loader)(directory, device=device)
