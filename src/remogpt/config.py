"""A ReMoGPT model directory's own config (`remogpt.json`) and layout.

    model/
      remogpt.json                          ReMoGPTConfig: retrieval setting, k, fps, feature size, decoding
                                            defaults, component sub-directories, the training summary
      config.json model.safetensors tokenizer/   the language model (its own Pretrained contract)
      motion_tokenizer/ retriever/ database/ evaluator/   the frozen components, each its own contract

`ReMoGPT.save_pretrained` / `ReMoGPT.from_pretrained` (pipeline.py) write and read a whole directory; the
retrieval database reads only its sub-directory names here (to find the retriever beside it).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

MODEL_CONFIG_NAME = "remogpt.json"
MODEL_TYPE = "remogpt"


@dataclass
class ReMoGPTConfig:
    retrieval: str = "both"  # none | t2t | t2m | both (language/context.py)
    k: int = 1  # references per kind in a prompt
    fps: float = 20.0
    feature_dim: int = 263
    # Decoding defaults: motions sampled per requested motion (the one the retriever scores closest to the text
    # kept), the guidance scale toward the retrieved context (language/model.py ContextGuidance; 0 = off) and toward
    # the whole prompt against its captionless instruction (text guidance, for a model trained with caption dropout).
    candidates: int = 1
    context_guidance: float = 0.0
    # captions: this many beams kept, the one the retriever scores closest to the motion written (1 = the top beam)
    caption_candidates: int = 1
    text_guidance: float = 0.0
    # hold planted feet still in every decoded motion (motion/foot_contact.py); a directory written before the
    # option existed reads True
    plant_feet: bool = True
    # a motion without a requested length takes its top-1 reference's (pipeline.SamplingSettings); a directory
    # written before the option existed reads True
    reference_length: bool = True
    # prediction and in-between prompts hold references retrieved with the given start as the query (trained so:
    # LanguageTrainConfig.motion_task_context); off, they hold none, as MotionGPT's
    motion_task_context: bool = False
    # per similarity kind, the best-reference similarity below which a query is told its match is poor
    # (notices.py calibrate_match_thresholds, on held-out queries; empty = never said)
    match_thresholds: dict = field(default_factory=dict)
    # component sub-directories, relative to the model directory
    motion_tokenizer: str = "motion_tokenizer"
    retriever: str = "retriever"
    database: str = "database"
    evaluator: str = "evaluator"
    training: dict = field(default_factory=dict)  # the language model's training config, for provenance

    @classmethod
    def read(cls, directory: str | os.PathLike) -> "ReMoGPTConfig":
        from .errors import UserInputError
        from .pretrained import read_config

        config = read_config(Path(directory) / MODEL_CONFIG_NAME, cls, ignore=("model_type", "remogpt_version"))
        for name, sub in config.components().items():
            if not sub or Path(sub).name != sub or sub in (".", ".."):  # its types are checked by read_config
                raise UserInputError(f"'{Path(directory) / MODEL_CONFIG_NAME}': {name} must name a sub-directory, not {sub!r}.")
        return config

    def write(self, directory: str | os.PathLike) -> None:
        from . import __version__
        from .pretrained import write_config

        from dataclasses import replace

        from .io import portable

        # the training summary is a record: no folder of the machine that built the model
        record = replace(self, training=portable(self.training))
        write_config(Path(directory) / MODEL_CONFIG_NAME, record, model_type=MODEL_TYPE, remogpt_version=__version__)

    def components(self) -> dict[str, str]:
        """Component name -> sub-directory."""
        return {name: getattr(self, name) for name in ("motion_tokenizer", "retriever", "database", "evaluator")}


def is_model_directory(directory: str | os.PathLike) -> bool:
    return (Path(directory) / MODEL_CONFIG_NAME).is_file()
