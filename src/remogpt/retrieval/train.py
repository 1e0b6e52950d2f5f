"""Training PL-TMR with Lightning: presets, the run config, the LightningModule and `train_retriever`.

    config = make_config("small", data="data/builtin", parts=6)
    model_dir = train_retriever(config, "runs/pltmr")        # runs/pltmr/model = PLTMR.from_pretrained(...)

The run directory (remogpt.training) holds config.json, metrics.jsonl, checkpoints/last.ckpt (resume) and
text_features.npz: the frozen text encoder's token features of every caption of the run, computed once.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..errors import UserInputError
from ..training import pick_device
from .model import PLTMRConfig
from .text_encoder import DEFAULT_TEXT_ENCODER, TokenFeatureCache, normalize_caption, resolve_text_encoder_path

MODEL_DIR = "model"
TEXT_CACHE_NAME = "text_features.npz"


@dataclass
class RetrieverTrainConfig:
    data: str
    preset: str = "small"
    model: PLTMRConfig = field(default_factory=PLTMRConfig)
    train_split: str = "train"
    val_split: str = "val"
    batch_size: int = 64
    lr: float = 3e-4
    weight_decay: float = 0.01
    warmup_steps: int = 100
    max_steps: int = 2000
    val_every: int = 250
    gradient_clip: float = 1.0
    seed: int = 1234
    num_workers: int = 0
    precision: str | None = None  # Lightning precision, e.g. "bf16-mixed" on a GPU
    accelerator: str = "auto"  # where it trains (training.HARDWARE_FIELDS)
    devices: int | str = "auto"
    num_nodes: int = 1


# Each preset: (model fields, training fields). `paper` is the paper's size (4 layers, width 512 per part).
PRESETS: dict[str, tuple[dict, dict]] = {
    "tiny": (
        dict(part_width=16, motion_layers=1, motion_heads=2, text_width=32, text_layers=1, text_heads=2,
             latent_dim=32, downsample=4, dropout=0.0),
        dict(batch_size=16, lr=1e-3, warmup_steps=0, max_steps=20, val_every=10),
    ),
    # small: dropout off because CPU dropout masks cost ~3x the step time and a minutes-long run underfits anyway;
    # 4-frame averaging (5 steps/s at 20 fps) keeps attention cheap
    "small": (
        dict(part_width=64, motion_layers=2, motion_heads=4, text_width=128, text_layers=1, text_heads=4,
             latent_dim=256, downsample=4, dropout=0.0),
        dict(batch_size=64, lr=3e-4, warmup_steps=100, max_steps=1000, val_every=100),  # ~9 CPU-minutes (6 parts)
    ),
    "paper": (
        dict(part_width=512, motion_layers=4, motion_heads=8, text_width=512, text_layers=4, text_heads=8,
             latent_dim=256, downsample=1, dropout=0.1),
        dict(batch_size=128, lr=1e-4, warmup_steps=1000, max_steps=100_000, val_every=2000),
    ),
}


def text_encoder_dim(name: str) -> int:
    """Hidden size of a frozen text encoder, read from its config only (no weights loaded)."""
    from transformers import AutoConfig

    config = AutoConfig.from_pretrained(str(resolve_text_encoder_path(name)), local_files_only=True)
    return int(getattr(config, "hidden_size", None) or getattr(config, "dim"))


def make_config(
    preset: str = "small",
    *,
    data: str | os.PathLike,
    parts: int = 6,
    text_encoder: str = DEFAULT_TEXT_ENCODER,
    num_joints: int | None = None,
    feature_dim: int | None = None,
    model_overrides: dict | None = None,
    **train_overrides,
) -> RetrieverTrainConfig:
    """A resolved training config: the preset, then the overrides (None values ignored)."""
    if preset not in PRESETS:
        raise UserInputError(f"preset '{preset}' is unknown, expected one of {', '.join(PRESETS)}.")
    model_fields, train_fields = PRESETS[preset]
    if num_joints is None or feature_dim is None:
        from ..data.folder import HumanML3DFolder

        folder = HumanML3DFolder(data)
        num_joints, feature_dim = folder.num_joints, folder.feature_dim
    model = PLTMRConfig(
        **{
            **model_fields,
            "parts": parts,
            "num_joints": num_joints,
            "feature_dim": feature_dim,
            "text_encoder": text_encoder,
            "token_dim": text_encoder_dim(text_encoder),
            **{k: v for k, v in (model_overrides or {}).items() if v is not None},
        }
    )
    train = {**train_fields, **{k: v for k, v in train_overrides.items() if v is not None}}
    return RetrieverTrainConfig(data=str(Path(data).resolve()), preset=preset, model=model, **train)


# ----------------------------------------------------------------------------------------------------- Lightning
def _lightning_module_class():
    """Built lazily so importing this module does not import Lightning."""
    import lightning
    import torch

    from .metrics import evaluate_protocol
    from .model import PLTMR

    class RetrieverModule(lightning.LightningModule):
        """Contrastive training of a PLTMR on cached token features; validation = protocol (a) on the val split."""

        def __init__(self, config: RetrieverTrainConfig, cache: TokenFeatureCache):
            super().__init__()
            self.config = config
            self.model = PLTMR(config.model)
            self.cache = cache
            self._val: list[tuple[np.ndarray, np.ndarray, np.ndarray, torch.Tensor]] = []

        def _step(self, batch, whole_batch: bool = False):
            text = self.cache.batch(batch["captions"]).to(self.device)
            motion_latent = self.model.encode_motion(batch["motion"], batch["mask"])
            text_latent = self.model.encode_text(text)
            latents = (text_latent, motion_latent, text.sentence)
            if whole_batch and self.trainer.world_size > 1:
                # Under DDP the negatives are the whole global batch, as with one process (CLIP / TMR practice): every
                # process gathers all rows (gradients flow back to its own) and computes the same loss. Batches
                # are full (drop_last), so the shapes agree.
                latents = tuple(self.all_gather(t, sync_grads=True).flatten(0, 1) for t in latents)
            return self.model.loss(*latents), text_latent, motion_latent, text

        def training_step(self, batch, batch_index):
            loss, *_ = self._step(batch, whole_batch=True)
            self.log("train/loss", loss, prog_bar=True, batch_size=len(batch["captions"]), sync_dist=True)
            return loss

        def validation_step(self, batch, batch_index):
            loss, text_latent, motion_latent, text = self._step(batch)
            self._val.append(
                (text_latent.float().cpu().numpy(), motion_latent.float().cpu().numpy(), text.sentence.cpu().numpy(), loss)
            )

        def on_validation_epoch_end(self):
            if not self._val:
                return
            text = np.concatenate([v[0] for v in self._val])
            motion = np.concatenate([v[1] for v in self._val])
            loss = torch.stack([v[3] for v in self._val]).mean()
            self._val.clear()
            self.log("val/loss", loss, prog_bar=True)
            if len(text) >= 2:
                result = evaluate_protocol("a", text, motion)
                for direction in ("t2m", "m2t"):
                    for key in ("R@1", "R@5", "R@10", "MedR"):
                        self.log(f"val/{direction}_{key}", result[direction][key])

        def configure_optimizers(self):
            optimizer = torch.optim.AdamW(
                self.model.parameters(), lr=self.config.lr, weight_decay=self.config.weight_decay
            )
            warmup, total = self.config.warmup_steps, max(self.config.max_steps, 1)

            def factor(step: int) -> float:
                if step < warmup:
                    return (step + 1) / warmup
                progress = min(1.0, (step - warmup) / max(1, total - warmup))
                return 0.1 + 0.9 * 0.5 * (1.0 + math.cos(math.pi * progress))  # cosine down to 10%

            schedule = torch.optim.lr_scheduler.LambdaLR(optimizer, factor)
            return {"optimizer": optimizer, "lr_scheduler": {"scheduler": schedule, "interval": "step"}}

        def on_train_batch_start(self, batch, batch_idx):
            from ..training import seed_step

            seed_step(self.config.seed, self.global_step)  # exact resume: per-step randomness from (seed, step)


    return RetrieverModule


# ----------------------------------------------------------------------------------------------------- caching
def cached_token_features(path: Path, captions: list[str], text_encoder: str, max_tokens: int) -> TokenFeatureCache:
    """The frozen encoder's features of every caption: read from `path`, computing (and saving) only what is missing.

    Runs on the same data may share one file: it depends only on the encoder, its token limit and the captions.
    """
    from .text_encoder import FrozenTextEncoder

    cache = None
    if path.is_file():
        try:
            cache = TokenFeatureCache.load(path)
        except (OSError, ValueError, KeyError):
            cache = None  # unreadable: recompute
        if cache is not None and (cache.encoder != text_encoder or cache.max_tokens != max_tokens):
            cache = None
    wanted = list(dict.fromkeys(normalize_caption(c) for c in captions))
    if cache is not None and all(c in cache.index for c in wanted):
        return cache
    encoder = FrozenTextEncoder(text_encoder, max_tokens=max_tokens, device=pick_device())
    if cache is None:
        cache = TokenFeatureCache.build(encoder, wanted)
    else:
        cache.extend(encoder, wanted)
    cache.save(path)
    return cache




# ----------------------------------------------------------------------------------------------------- training
def train_retriever(
    config: RetrieverTrainConfig,
    out_dir: str | os.PathLike,
    *,
    progress: bool = True,
    text_cache: str | os.PathLike | None = None,
) -> Path:
    """Train (or resume) a PL-TMR in `out_dir`; returns the directory of the saved model.

    `text_cache`: where the frozen encoder's token features are kept (default out_dir/text_features.npz); point
    several runs on the same data at one file to compute them once.
    """
    import torch
    from torch.utils.data import DataLoader

    from ..data.folder import HumanML3DFolder
    from ..data.pairs import TextMotionDataset, collate_text_motion
    from ..training import (
        HARDWARE_FIELDS, StepBatches, fit, hardware, last_checkpoint, loader_options, make_trainer, on_main_process, resume_step, seed_everything,
        seed_step, shuffled_batches, write_run_config,
    )

    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    seed_everything(config.seed)
    write_run_config(out_dir, config, may_change=("max_steps", "val_every", "num_workers", *HARDWARE_FIELDS))

    folder = HumanML3DFolder(config.data)
    if folder.feature_dim != config.model.feature_dim:
        raise UserInputError(
            f"dataset '{config.data}' has {folder.feature_dim}-d features, the config expects {config.model.feature_dim}."
        )
    mean, std = folder.mean_std()
    train_samples = folder.samples(config.train_split)
    val_samples = folder.samples(config.val_split)
    if len(train_samples) < 2:
        raise UserInputError(f"split '{config.train_split}' of '{config.data}' has {len(train_samples)} samples, expected at least 2.")
    captions = [c.text for s in (*train_samples, *val_samples) for c in s.captions]
    cache_path = Path(text_cache) if text_cache is not None else out_dir / TEXT_CACHE_NAME
    cache = cached_token_features(cache_path, captions, config.model.text_encoder, config.model.max_text_tokens)

    max_frames = config.model.max_frames
    train_set = TextMotionDataset(train_samples, mean, std, max_frames=max_frames, crop="random", seed=config.seed)
    batch_size = min(config.batch_size, len(train_set))
    # full batches only (InfoNCE wants full batches of negatives), a function of (seed, step): exact resume
    batches = StepBatches(*shuffled_batches(len(train_set), batch_size, config.seed), start=resume_step(out_dir))
    train_loader = DataLoader(train_set, batch_sampler=batches, collate_fn=collate_text_motion, **loader_options(config))
    val_loader = None
    if val_samples:
        # fixed caption picks and whole motions (centre-cropped only beyond max_frames): comparable across steps
        val_set = TextMotionDataset(val_samples, mean, std, max_frames=max_frames, crop="none", seed=config.seed)
        val_loader = DataLoader(val_set, batch_size=batch_size, shuffle=False, collate_fn=collate_text_motion)

    module = _lightning_module_class()(config, cache)
    module.model.set_statistics(mean, std)
    trainer = make_trainer(
        out_dir,
        max_steps=config.max_steps,
        val_every_n_steps=config.val_every,
        gradient_clip_val=config.gradient_clip,
        **hardware(config),
        progress_bar=progress,
        log_every_n_steps=min(10, config.val_every),
    )
    model_dir = out_dir / MODEL_DIR
    if not fit(trainer, module, train_loader, val_loader, out_dir):
        # the run had already reached max_steps: export the checkpoint's weights (again)
        state = torch.load(last_checkpoint(out_dir), map_location="cpu", weights_only=True)["state_dict"]
        module.load_state_dict(state)
    on_main_process(lambda: module.model.cpu().save_pretrained(model_dir))
    return model_dir
