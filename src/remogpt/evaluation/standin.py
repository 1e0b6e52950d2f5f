"""Stand-in models that answer from a dataset: the ground truth (an oracle) or shuffled pairs (a broken model).

They exist to check the protocols end to end before a real model exists, and as the two anchors every report can
be read against: `ground_truth` must score like the real-motion row, `shuffled` must score like chance.

A stand-in directory is just a config.json:

    {"model_type": "evaluation-stand-in", "mode": "ground_truth" | "shuffled", "data": "/path/to/dataset",
     "split": "test", "seed": 0}
"""

from __future__ import annotations

import hashlib
import os
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

import numpy as np

from ..errors import UserInputError
from ..pretrained import CONFIG_NAME, config_from_dict, read_json, write_config

MODEL_TYPE = "evaluation-stand-in"
MODES = ("ground_truth", "shuffled")


@dataclass
class StandInConfig:
    mode: str = "ground_truth"
    data: str = ""
    split: str = "test"
    seed: int = 0


def write_stand_in(directory: str | os.PathLike, mode: str, data: str | os.PathLike, split: str = "test", seed: int = 0) -> Path:
    """Create a stand-in model directory."""
    if mode not in MODES:
        raise UserInputError(f"stand-in mode '{mode}' is unknown, expected one of {', '.join(MODES)}.")
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    config = StandInConfig(mode=mode, data=str(Path(data).resolve()), split=split, seed=seed)
    write_config(directory / CONFIG_NAME, config, model_type=MODEL_TYPE)
    return directory


def _motion_key(motion: np.ndarray) -> str:
    return hashlib.sha1(np.ascontiguousarray(motion, dtype=np.float32).tobytes()).hexdigest()


class StandInModel:
    """Implements MotionGenerator and MotionCaptioner by looking motions and captions up in the dataset."""

    def __init__(self, config: StandInConfig):
        from ..data.folder import HumanML3DFolder

        if config.mode not in MODES:
            raise UserInputError(f"stand-in mode '{config.mode}' is unknown, expected one of {', '.join(MODES)}.")
        self.config = config
        self.rng = np.random.default_rng(config.seed)
        self.samples = HumanML3DFolder(config.data).samples(config.split)
        if not self.samples:
            raise UserInputError(f"stand-in dataset '{config.data}' has no samples in split '{config.split}'.")
        self.by_text: dict[str, list[int]] = defaultdict(list)
        self.by_motion: dict[str, int] = {}
        for index, sample in enumerate(self.samples):
            for caption in sample.captions:
                self.by_text[caption.text].append(index)
            self.by_motion.setdefault(_motion_key(sample.features), index)

    @classmethod
    def from_directory(cls, directory: str | os.PathLike, device: str = "cpu") -> "StandInModel":
        values = read_json(Path(directory) / CONFIG_NAME)
        values.pop("model_type", None)
        values.pop("remogpt_version", None)
        return cls(config_from_dict(StandInConfig, values, source=f"'{Path(directory) / CONFIG_NAME}'"))

    def _source(self, index: int) -> int:
        """The sample a stand-in answers with: the true one, or a random other one."""
        if self.config.mode == "ground_truth" or len(self.samples) == 1:
            return index
        other = int(self.rng.integers(len(self.samples) - 1))
        return other + (other >= index)

    def _crop(self, motion: np.ndarray, length: int | None) -> np.ndarray:
        if length is None or length >= len(motion):
            return motion
        start = int(self.rng.integers(len(motion) - length + 1))
        return motion[start : start + length]

    def generate(self, texts: Sequence[str], lengths: Sequence[int] | None = None, num_samples: int = 1) -> list[np.ndarray]:
        out = []
        for i, text in enumerate(texts):
            candidates = self.by_text.get(text)
            if not candidates:
                raise UserInputError(f"the stand-in model knows no motion for the text '{text}'.")
            for _ in range(num_samples):
                source = self._source(candidates[int(self.rng.integers(len(candidates)))])
                out.append(self._crop(self.samples[source].features, None if lengths is None else int(lengths[i])))
        return out

    def caption(self, motions: Sequence[np.ndarray]) -> list[str]:
        out = []
        for motion in motions:
            index = self.by_motion.get(_motion_key(motion))
            if index is None:
                raise UserInputError("the stand-in model was asked to caption a motion that is not in its dataset.")
            captions = self.samples[self._source(index)].captions
            out.append(captions[int(self.rng.integers(len(captions)))].text)
        return out
