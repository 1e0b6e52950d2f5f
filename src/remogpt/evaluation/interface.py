"""What a model must offer to be evaluated: any object with `generate` and/or `caption` (and optionally the
reference rows). The protocols take the object; `remogpt.pipeline.load_evaluable` turns `--model DIR` into one.
"""

from __future__ import annotations

from typing import Protocol, Sequence, runtime_checkable

import numpy as np


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
