"""Training the motion tokenizer with Lightning: random 64-frame windows of normalised features, steps not epochs.

    loss = smooth_l1(reconstruction, x)
         + position_loss_weight   * smooth_l1 on the joint-position block (root-relative joints, dims 4:67)
         + commitment_weight      * ||encoder output - sg(code)||^2
The codebook itself moves by EMA (no gradient). Validation every `val_every` steps on whole motions of the val split
logs the loss, MPJPE, codebook usage and perplexity to metrics.jsonl.

Run directory (remogpt.training): config.json (this TokenizerTrainConfig), metrics.jsonl, checkpoints/last.ckpt and
model/ (the inference MotionTokenizer with the Mean/Std it was trained with).
"""

from __future__ import annotations

import dataclasses
import math
import os
from dataclasses import dataclass, field
from pathlib import Path

import lightning
import numpy as np
import torch
import torch.nn.functional as F
from torch.utils.data import DataLoader

from ..data.folder import HumanML3DFolder
from ..errors import UserInputError
from ..motion.features import feature_groups, num_joints_for_dim
from ..pretrained import MODEL_SUBDIR
from ..training import (
    HARDWARE_FIELDS, StepBatches, fit, hardware, last_checkpoint, loader_options, make_trainer, on_main_process, resume_step,
    seed_everything, write_run_config,
)
from .data import WholeMotionDataset, WindowDataset, load_split, pad_collate, window_batches
from .metrics import reconstruction_metrics
from .model import MODEL_PRESETS, MotionTokenizer, TokenizerConfig, make_quantizer


@dataclass
class TokenizerTrainConfig:
    preset: str = "paper"
    model: TokenizerConfig = field(default_factory=TokenizerConfig)
    data: str = ""  # the dataset folder (absolute path), recorded for the run's record
    window: int = 64  # frames per training window
    batch_size: int = 256
    learning_rate: float = 2e-4
    betas: tuple[float, float] = (0.9, 0.99)
    weight_decay: float = 0.0
    warmup_steps: int = 1000
    final_lr_fraction: float = 0.1  # cosine decay from learning_rate to this fraction of it at max_steps
    max_steps: int = 300_000
    val_every: int = 5000
    val_max_motions: int = 256  # whole val motions scored at each validation
    position_loss_weight: float = 0.5
    commitment_weight: float = 0.02
    seed: int = 1234
    num_workers: int = 0
    precision: str | None = None  # Lightning precision, e.g. "bf16-mixed" on a GPU
    accelerator: str = "auto"  # where it trains (training.HARDWARE_FIELDS)
    devices: int | str = "auto"
    num_nodes: int = 1


PRESETS = {
    "paper": TokenizerTrainConfig(preset="paper", model=MODEL_PRESETS["paper"]),
    # sized to train on 2 CPU cores in well under 30 minutes
    "small": TokenizerTrainConfig(
        preset="small",
        model=MODEL_PRESETS["small"],
        batch_size=64,
        learning_rate=1e-3,
        warmup_steps=100,
        max_steps=1000,  # about 20 minutes on 2 shared CPU cores (one torch thread, ~1.2 s/step)
        val_every=200,
        val_max_motions=128,
    ),
    # seconds, for tests
    "tiny": TokenizerTrainConfig(
        preset="tiny",
        model=MODEL_PRESETS["tiny"],
        window=32,
        batch_size=8,
        learning_rate=2e-3,
        warmup_steps=0,
        max_steps=20,
        val_every=10,
        val_max_motions=8,
    ),
}


def make_config(preset: str = "small", *, data: str | os.PathLike | None = None, **overrides) -> TokenizerTrainConfig:
    """A resolved config: the preset, the dataset's path and feature width (when `data` is given), the overrides."""
    if preset not in PRESETS:
        raise UserInputError(f"preset '{preset}' is unknown, expected one of {', '.join(PRESETS)}.")
    config = PRESETS[preset]
    if data is not None:
        folder = HumanML3DFolder(data)
        config = dataclasses.replace(
            config, data=str(Path(data).resolve()), model=dataclasses.replace(config.model, feature_dim=folder.feature_dim)
        )
    return dataclasses.replace(config, **{k: v for k, v in overrides.items() if v is not None})


def position_dims(feature_dim: int) -> slice:
    """The root-relative joint positions ("ric", dims 4:67 for HumanML3D), which MotionGPT calls "velocity"."""
    return feature_groups(num_joints_for_dim(feature_dim))["ric"]


class TokenizerModule(lightning.LightningModule):
    def __init__(self, config: TokenizerTrainConfig, mean: np.ndarray, std: np.ndarray):
        super().__init__()
        self.config = config
        self.model = MotionTokenizer(config.model)
        self.model.set_normalization(mean, std)
        self.positions = position_dims(config.model.feature_dim)
        self._val_outputs: list[tuple[int, np.ndarray, list[int]]] = []

    def setup(self, stage: str) -> None:
        # Under DDP every process must apply the same EMA/reset updates: rebuild the quantizer with synchronised
        # statistics (the library decides this at construction, before the process group exists). Same buffers.
        if torch.distributed.is_available() and torch.distributed.is_initialized():
            if torch.distributed.get_world_size() > 1:
                state = self.model.quantizer.state_dict()
                self.model.quantizer = make_quantizer(self.config.model, sync_codebook=True).to(self.device)
                self.model.quantizer.load_state_dict(state)

    def losses(self, x: torch.Tensor, mask: torch.Tensor | None = None) -> dict[str, torch.Tensor]:
        reconstruction, codes, commitment = self.model(x, mask)
        weight = torch.ones_like(x[..., :1]) if mask is None else mask[..., None].to(x.dtype)
        frames = weight.sum().clamp(min=1)

        def smooth_l1(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
            return (F.smooth_l1_loss(a, b, reduction="none") * weight).sum() / (frames * a.shape[-1])

        recon = smooth_l1(reconstruction, x)
        position = smooth_l1(reconstruction[..., self.positions], x[..., self.positions])
        total = recon + self.config.position_loss_weight * position + self.config.commitment_weight * commitment
        return {
            "loss": total,
            "reconstruction": recon,
            "position_loss": position,
            "commitment": commitment,
            "output": reconstruction,
            "codes": codes,
        }

    # Exact resume: the batches (training.StepBatches) and the quantizer's own randomness (k-means initialisation,
    # dead-code resets) are functions of (seed, step), so a run stopped and resumed trains like one that was not.
    def on_train_batch_start(self, batch, batch_idx: int) -> None:
        torch.manual_seed(self.config.seed * 1_000_003 + self.trainer.global_step)

    def training_step(self, batch: torch.Tensor, batch_idx: int) -> torch.Tensor:
        out = self.losses(batch)
        self.log_dict({f"train/{k}": out[k].detach() for k in ("loss", "reconstruction", "position_loss", "commitment")}, sync_dist=True)
        codebook = self.model.quantizer._codebook  # EMA usage per code, kept by vector-quantize-pytorch
        active = (codebook.cluster_size >= self.config.model.dead_code_threshold).float().mean()
        self.log("train/active_codes", active)
        self.log("train/lr", self.trainer.optimizers[0].param_groups[0]["lr"])
        return out["loss"]

    def validation_step(self, batch: dict[str, torch.Tensor], batch_idx: int) -> None:
        out = self.losses(batch["x"], batch["mask"])
        self.log("val/loss", out["loss"], batch_size=len(batch["x"]), sync_dist=True)
        output = out["output"] * self.model.std + self.model.mean
        factor = self.config.model.downsample_factor
        for row, index in enumerate(batch["index"].tolist()):
            length = int(batch["mask"][row].sum())
            tokens = out["codes"][row, : length // factor].tolist()
            self._val_outputs.append((index, output[row, :length].float().cpu().numpy(), tokens))

    def on_validation_epoch_end(self) -> None:
        if not self._val_outputs:
            return
        dataset = self.trainer.val_dataloaders.dataset
        originals = [dataset.raw[i] for i, _, _ in self._val_outputs]
        metrics = reconstruction_metrics(
            originals,
            [r for _, r, _ in self._val_outputs],
            [t for _, _, t in self._val_outputs],
            self.config.model.codebook_size,
        )
        self._val_outputs.clear()
        keys = ("mpjpe_mm", "global_mpjpe_mm", "codebook_usage", "perplexity")
        self.log_dict({f"val/{k}": float(metrics[k]) for k in keys}, sync_dist=True)

    def configure_optimizers(self):
        config = self.config
        optimizer = torch.optim.AdamW(
            self.parameters(), lr=config.learning_rate, betas=tuple(config.betas), weight_decay=config.weight_decay
        )

        def factor(step: int) -> float:
            if step < config.warmup_steps:
                return (step + 1) / config.warmup_steps
            progress = min(1.0, (step - config.warmup_steps) / max(1, config.max_steps - config.warmup_steps))
            return config.final_lr_fraction + (1 - config.final_lr_fraction) * 0.5 * (1 + math.cos(math.pi * progress))

        scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, factor)
        return {"optimizer": optimizer, "lr_scheduler": {"scheduler": scheduler, "interval": "step"}}


def _every_nth(items: list, limit: int) -> list:
    """At most `limit` items spread evenly over the list (a fixed, reproducible validation subset)."""
    if len(items) <= limit:
        return items
    return [items[int(i * len(items) / limit)] for i in range(limit)]


def train_tokenizer(
    config: TokenizerTrainConfig,
    out_dir: str | os.PathLike,
    *,
    progress_bar: bool = True,
) -> Path:
    """Train (or resume) a tokenizer run; returns the directory of the inference model (out_dir/model)."""
    if not config.data:
        raise UserInputError("the tokenizer config names no dataset; make it with make_config(preset, data=DIR).")
    folder = HumanML3DFolder(config.data)
    if config.max_steps < 1:
        raise UserInputError(f"--max-steps must be >= 1, got {config.max_steps}.")
    mean, std = folder.mean_std()
    factor = config.model.downsample_factor
    train_motions = load_split(folder, "train", min_frames=config.window)
    val_motions = _every_nth(load_split(folder, "val", min_frames=factor), config.val_max_motions)
    if not val_motions:
        raise UserInputError(f"dataset folder '{folder.root}' has no val motion with at least {factor} frames.")

    out_dir = Path(out_dir)
    seed_everything(config.seed)
    write_run_config(out_dir, config, may_change=("max_steps", *HARDWARE_FIELDS))
    windows = WindowDataset(train_motions, mean, std, window=config.window, seed=config.seed)
    batches = StepBatches(*window_batches(len(windows), config.batch_size, config.seed), start=resume_step(out_dir))
    train_loader = DataLoader(windows, batch_sampler=batches, **loader_options(config))
    val_loader = DataLoader(
        WholeMotionDataset(val_motions, mean, std, multiple=factor),
        batch_size=32,
        shuffle=False,
        collate_fn=pad_collate,
        num_workers=0,
    )
    module = TokenizerModule(config, mean, std)
    trainer = make_trainer(
        out_dir,
        max_steps=config.max_steps,
        val_every_n_steps=config.val_every,
        **hardware(config),
        progress_bar=progress_bar,
        log_every_n_steps=min(10, config.val_every),
    )
    trained = fit(trainer, module, train_loader, val_loader, out_dir)
    if not trained:  # already at max_steps: take the weights from the last checkpoint
        state = torch.load(last_checkpoint(out_dir), map_location="cpu", weights_only=True)
        module.load_state_dict(state["state_dict"])
    model_dir = out_dir / MODEL_SUBDIR
    on_main_process(lambda: module.model.save_pretrained(model_dir))
    return model_dir


__all__ = ["PRESETS", "TokenizerModule", "TokenizerTrainConfig", "make_config", "train_tokenizer"]
