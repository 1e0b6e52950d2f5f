"""PL-TMR: part-level text-motion retrieval (paper §2.2). One config dataclass + one model class.

    model = PLTMR(PLTMRConfig(parts=6))
    motion_latent = model.embed_motions([features (T, 263) raw, ...])    # (N, latent) L2-normalised
    text_latent = model.embed_texts(["a person waves", ...])           # (N, latent) L2-normalised
    similarity = text_latent @ motion_latent.T                          # cosine

The model keeps the normalisation statistics of the data it was trained on (buffers `mean`/`std`), so it embeds raw
features from any HumanML3D-layout dataset; a database built from one dataset can serve a model trained on another.
The frozen text encoder is not part of the weights: `config.text_encoder` names it and it is loaded on first use.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np
import torch
from torch import nn

from ..errors import UserInputError
from ..pretrained import Pretrained
from .layers import POOLINGS
from .motion_encoder import PART_COUNTS, MotionEncoder
from .text_encoder import DEFAULT_TEXT_ENCODER, FrozenTextEncoder, TextBatch, TextTransformer, TokenFeatureCache


@dataclass
class PLTMRConfig:
    parts: int = 6  # 6 body parts (PL-TMR) or 1 (whole body, the TMR-style baseline)
    num_joints: int = 22
    feature_dim: int = 263
    part_width: int = 64  # width of each part's Transformer
    motion_layers: int = 2
    motion_heads: int = 4
    text_width: int = 128
    text_layers: int = 1
    text_heads: int = 4
    latent_dim: int = 256
    ff_mult: int = 2
    dropout: float = 0.1
    pooling: str = "token"  # "token" (learned summary token) or "mean" (masked mean of the outputs)
    max_frames: int = 200  # longer motions are centre-cropped
    downsample: int = 1  # average this many frames before the motion Transformers (cheaper on a CPU)
    text_encoder: str = DEFAULT_TEXT_ENCODER  # the frozen sentence encoder: package default or a local HF folder
    token_dim: int = 384  # hidden size of that encoder
    max_text_tokens: int = 64
    temperature: float = 0.1
    duplicate_threshold: float = 0.6  # in-batch negatives whose captions are closer than this are dropped

    def __post_init__(self):
        if self.parts not in PART_COUNTS:
            raise UserInputError(f"parts is {self.parts}, expected one of {', '.join(map(str, PART_COUNTS))}.")
        if self.pooling not in POOLINGS:
            raise UserInputError(f"pooling is '{self.pooling}', expected one of {', '.join(POOLINGS)}.")
        for name in ("part_width", "text_width"):
            heads = self.motion_heads if name == "part_width" else self.text_heads
            if getattr(self, name) % heads:
                raise UserInputError(f"{name} {getattr(self, name)} is not divisible by its {heads} attention heads.")
        if self.downsample < 1 or self.max_frames < 1 or self.temperature <= 0:
            raise UserInputError("downsample and max_frames must be >= 1 and temperature > 0.")


def contrastive_loss(
    text: torch.Tensor,
    motion: torch.Tensor,
    sentence: torch.Tensor | None = None,
    *,
    temperature: float = 0.1,
    duplicate_threshold: float = 0.6,
) -> torch.Tensor:
    """Symmetric InfoNCE over L2-normalised (B, d) embeddings, pair i <-> i positive.

    Negatives j whose caption's sentence embedding has cosine > duplicate_threshold with caption i are removed
    from both directions (TMR's filtering): they are most likely true matches, not negatives.
    """
    logits = text @ motion.T / temperature
    if sentence is not None:
        duplicate = (sentence @ sentence.T) > duplicate_threshold
        duplicate.fill_diagonal_(False)
        logits = logits.masked_fill(duplicate, float("-inf"))
    labels = torch.arange(len(text), device=text.device)
    return 0.5 * (nn.functional.cross_entropy(logits, labels) + nn.functional.cross_entropy(logits.T, labels))


def pad_motions(
    motions: Sequence[np.ndarray], max_frames: int
) -> tuple[torch.Tensor, torch.Tensor]:
    """Raw (T_i, D) arrays -> (B, T, D) zero-padded tensor + (B, T) mask; longer motions are centre-cropped."""
    clipped = []
    for motion in motions:
        if len(motion) > max_frames:
            start = (len(motion) - max_frames) // 2
            motion = motion[start : start + max_frames]
        clipped.append(motion)
    longest = max(len(m) for m in clipped)
    dim = clipped[0].shape[1]
    batch = np.zeros((len(clipped), longest, dim), dtype=np.float32)
    mask = np.zeros((len(clipped), longest), dtype=bool)
    for i, motion in enumerate(clipped):
        batch[i, : len(motion)] = motion
        mask[i, : len(motion)] = True
    return torch.from_numpy(batch), torch.from_numpy(mask)


class PLTMR(Pretrained, nn.Module):
    model_type = "pl-tmr"
    config_class = PLTMRConfig

    def __init__(self, config: PLTMRConfig):
        super().__init__()
        self.config = config
        self.motion_encoder = MotionEncoder(
            parts=config.parts,
            num_joints=config.num_joints,
            feature_dim=config.feature_dim,
            width=config.part_width,
            layers=config.motion_layers,
            heads=config.motion_heads,
            latent_dim=config.latent_dim,
            ff_mult=config.ff_mult,
            dropout=config.dropout,
            max_frames=config.max_frames,
            downsample=config.downsample,
            pooling=config.pooling,
        )
        self.text_encoder = TextTransformer(
            config.token_dim,
            config.text_width,
            config.text_layers,
            config.text_heads,
            config.latent_dim,
            ff_mult=config.ff_mult,
            dropout=config.dropout,
            max_len=config.max_text_tokens,
            pooling=config.pooling,
        )
        # statistics of the training data: the model normalises raw features itself
        self.register_buffer("mean", torch.zeros(config.feature_dim))
        self.register_buffer("std", torch.ones(config.feature_dim))
        self._frozen: FrozenTextEncoder | None = None

    # ---- set-up
    def set_statistics(self, mean: np.ndarray, std: np.ndarray) -> None:
        mean = np.asarray(mean, dtype=np.float32)
        std = np.asarray(std, dtype=np.float32)
        if mean.shape != (self.config.feature_dim,) or std.shape != mean.shape:
            raise UserInputError(
                f"statistics have shapes {mean.shape} and {std.shape}, expected ({self.config.feature_dim},)."
            )
        self.mean.copy_(torch.from_numpy(mean))
        self.std.copy_(torch.from_numpy(std))

    def frozen_text_encoder(self) -> FrozenTextEncoder:
        """The pretrained sentence encoder named in the config (loaded once, on the model's device)."""
        if self._frozen is None or self._frozen.device != self.device:
            self._frozen = FrozenTextEncoder(
                self.config.text_encoder, device=self.device, max_tokens=self.config.max_text_tokens
            )
            if self._frozen.dim != self.config.token_dim:
                raise UserInputError(
                    f"text encoder '{self.config.text_encoder}' has hidden size {self._frozen.dim}, "
                    f"but this retriever was built for {self.config.token_dim}."
                )
        return self._frozen

    def use_text_encoder(self, name: str) -> None:
        """Point the model at another copy of its frozen text encoder (e.g. a different local path)."""
        self.config.text_encoder = name
        self._frozen = None

    @property
    def device(self) -> torch.device:
        return self.mean.device

    @property
    def num_trainable_parameters(self) -> int:
        return sum(p.numel() for p in self.parameters() if p.requires_grad)

    # ---- tensors in, L2-normalised embeddings out
    def normalize_features(self, features: torch.Tensor) -> torch.Tensor:
        return (features - self.mean) / self.std

    def encode_motion(self, normalized: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        return nn.functional.normalize(self.motion_encoder(normalized, mask), dim=-1)

    def encode_text(self, text: TextBatch) -> torch.Tensor:
        return nn.functional.normalize(self.text_encoder(text.features, text.mask), dim=-1)

    def loss(self, text_latent: torch.Tensor, motion_latent: torch.Tensor, sentence: torch.Tensor | None) -> torch.Tensor:
        return contrastive_loss(
            text_latent,
            motion_latent,
            sentence,
            temperature=self.config.temperature,
            duplicate_threshold=self.config.duplicate_threshold,
        )

    # ---- numpy in, numpy out (what the database and the CLI use)
    @torch.no_grad()
    def embed_motions(self, motions: Sequence[np.ndarray], batch_size: int = 128) -> np.ndarray:
        """Raw (T, D) feature arrays -> (N, latent) float32 L2-normalised embeddings."""
        was_training = self.training
        self.eval()
        out = []
        # similar lengths together: less padding
        order = np.argsort([len(m) for m in motions], kind="stable")
        for start in range(0, len(order), batch_size):
            chunk = [self._check_motion(motions[i]) for i in order[start : start + batch_size]]
            features, mask = pad_motions(chunk, self.config.max_frames)
            features, mask = features.to(self.device), mask.to(self.device)
            out.append(self.encode_motion(self.normalize_features(features), mask).float().cpu().numpy())
        self.train(was_training)
        embeddings = np.concatenate(out) if out else np.zeros((0, self.config.latent_dim), np.float32)
        result = np.empty_like(embeddings)
        result[order] = embeddings
        return result

    def _check_motion(self, motion: np.ndarray) -> np.ndarray:
        motion = np.asarray(motion, dtype=np.float32)
        if motion.ndim != 2 or motion.shape[1] != self.config.feature_dim or len(motion) == 0:
            raise UserInputError(
                f"motion has shape {motion.shape}, expected features (T, {self.config.feature_dim}) for this retriever."
            )
        return motion

    @torch.no_grad()
    def embed_token_features(self, cache: TokenFeatureCache, captions: Sequence[str], batch_size: int = 256) -> np.ndarray:
        """Captions already in a token-feature cache -> (N, latent) float32 L2-normalised embeddings."""
        was_training = self.training
        self.eval()
        out = [
            self.encode_text(cache.batch(captions[start : start + batch_size]).to(self.device)).float().cpu().numpy()
            for start in range(0, len(captions), batch_size)
        ]
        self.train(was_training)
        return np.concatenate(out) if out else np.zeros((0, self.config.latent_dim), np.float32)

    def token_cache(self, captions: Sequence[str], batch_size: int = 256) -> TokenFeatureCache:
        """Run the frozen encoder once over the unique captions."""
        return TokenFeatureCache.build(self.frozen_text_encoder(), captions, batch_size=batch_size)

    def embed_texts(self, texts: Sequence[str], batch_size: int = 256) -> np.ndarray:
        """Captions -> (N, latent) float32 L2-normalised embeddings."""
        texts = list(texts)
        for text in texts:
            if not isinstance(text, str) or not text.strip():
                raise UserInputError("query text is empty, expected a sentence describing a motion.")
        return self.embed_token_features(self.token_cache(texts, batch_size), texts, batch_size)
