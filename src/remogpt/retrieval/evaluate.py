"""Evaluate a trained PL-TMR on a split of a HumanML3D-layout folder with TMR's protocols.

One text-motion pair per sample: the whole motion (centre-cropped beyond the model's max_frames) and its first
caption, as TMR's test loader does.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Sequence

import numpy as np

from ..errors import UserInputError
from .metrics import BATCH_SIZE, PROTOCOLS, evaluate_protocol, markdown_table


def resolve_retriever_dir(path: str | os.PathLike) -> Path:
    """A PL-TMR model directory, or a training run directory holding one in model/."""
    from ..pretrained import CONFIG_NAME
    from .train import MODEL_DIR

    path = Path(path)
    if (path / CONFIG_NAME).is_file() and (path / "model.safetensors").is_file():
        return path
    if (path / MODEL_DIR / "model.safetensors").is_file():
        return path / MODEL_DIR
    raise UserInputError(
        f"retriever '{path}' is neither a PL-TMR model folder (config.json + model.safetensors) nor a training run "
        f"with {MODEL_DIR}/ inside."
    )


def split_embeddings(model, folder, split: str) -> tuple[list[str], np.ndarray, np.ndarray, np.ndarray]:
    """(sample names, caption embeddings, motion embeddings, sentence embeddings) of a split, one pair per sample."""
    samples = folder.samples(split)
    if not samples:
        raise UserInputError(f"split '{split}' of '{folder.root}' has no text-motion samples.")
    if folder.feature_dim != model.config.feature_dim:
        raise UserInputError(
            f"dataset '{folder.root}' has {folder.feature_dim}-d features, the retriever expects {model.config.feature_dim}."
        )
    captions = [s.captions[0].text for s in samples]
    cache = model.token_cache(captions)
    text = model.embed_token_features(cache, captions)
    motion = model.embed_motions([s.features for s in samples])
    return [s.name for s in samples], text, motion, cache.sentence_embeddings(captions)


def evaluate_retriever(
    model, folder, split: str = "test", protocols: Sequence[str] = ("a",), *, skip_infeasible: bool = False
) -> list[dict]:
    """Results of evaluate_protocol for each protocol, with the split and the model's part count recorded.

    With skip_infeasible, a protocol the split is too small for (d needs 32 pairs) is left out instead of failing.
    """
    for protocol in protocols:
        if protocol not in PROTOCOLS:
            raise UserInputError(f"protocol '{protocol}' is unknown, expected one of {', '.join(PROTOCOLS)}.")
    _, text, motion, sentence = split_embeddings(model, folder, split)
    results = []
    for protocol in protocols:
        if skip_infeasible and protocol == "d" and len(text) < BATCH_SIZE:
            continue
        result = evaluate_protocol(protocol, text, motion, sentence)
        result.update(split=split, data=str(folder.root), parts=model.config.parts)
        results.append(result)
    return results


__all__ = ["evaluate_retriever", "markdown_table", "resolve_retriever_dir", "split_embeddings"]
