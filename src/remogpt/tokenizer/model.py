"""The motion tokenizer: the MotionGPT / T2M-GPT VQ-VAE over normalised HumanML3D features.

    features (T, 263) ─► normalise ─► Encoder ─► (T/4, code_dim) ─► VectorQuantize ─► tokens (T/4,)
    tokens ─► codebook vectors ─► Decoder ─► (T, 263) ─► denormalise ─► features

Encoder: conv 3 + ReLU, then `downsample_stages` x (stride-2 conv, residual stack of dilated convs), conv 3 to
code_dim. Decoder mirrors it with nearest-neighbour upsampling. The codebook is vector-quantize-pytorch's
`VectorQuantize` with EMA updates, k-means initialisation on the first batch and reset of codes whose EMA usage falls
below `dead_code_threshold` (T2M-GPT's QuantizeEMAReset). Its `initted` flag is a persistent buffer, so a loaded
model never re-initialises its codebook, in eval or train mode.

Variable lengths: a batch is padded and every convolution sees zeros beyond each motion's end, exactly what it sees
at the end of an unpadded motion; so a motion gets the same tokens alone or in any batch.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from ..errors import UserInputError
from ..pretrained import Pretrained


@dataclass
class TokenizerConfig:
    feature_dim: int = 263
    width: int = 512  # channels of every hidden convolution
    code_dim: int = 512  # size of one codebook vector
    codebook_size: int = 512  # number of codes = motion vocabulary of the language model
    downsample_stages: int = 2  # stride-2 stages; one token covers downsample_factor = 2 ** stages frames
    residual_depth: int = 3  # dilated residual blocks per stage
    dilation_growth_rate: int = 3  # dilations 9, 3, 1 for depth 3
    ema_decay: float = 0.99
    dead_code_threshold: float = 1.0  # codes whose EMA count per batch falls below this are reset to encoder outputs
    kmeans_iters: int = 10

    @property
    def downsample_factor(self) -> int:
        return 2**self.downsample_stages


# Model presets; the training presets (batch, lr, steps) are in remogpt.tokenizer.train.
MODEL_PRESETS = {
    "paper": TokenizerConfig(),
    "small": TokenizerConfig(width=128, code_dim=128, codebook_size=512),
    "tiny": TokenizerConfig(width=16, code_dim=8, codebook_size=32, residual_depth=2, kmeans_iters=2),
}


def _masked(x: torch.Tensor, mask: torch.Tensor | None) -> torch.Tensor:
    """Zero the padded frames (mask (B, 1, T)) so a convolution sees what it would at the end of a lone motion."""
    return x if mask is None else x * mask


def _downsample_mask(mask: torch.Tensor | None) -> torch.Tensor | None:
    return None if mask is None else mask[..., ::2]


def _upsample_mask(mask: torch.Tensor | None) -> torch.Tensor | None:
    return None if mask is None else mask.repeat_interleave(2, dim=-1)


class ResidualBlock(nn.Module):
    """x + conv1x1(relu(conv3_dilated(relu(x)))), as T2M-GPT's ResConv1DBlock (no normalisation)."""

    def __init__(self, width: int, dilation: int):
        super().__init__()
        self.dilated = nn.Conv1d(width, width, 3, padding=dilation, dilation=dilation)
        self.pointwise = nn.Conv1d(width, width, 1)

    def forward(self, x: torch.Tensor, mask: torch.Tensor | None) -> torch.Tensor:
        hidden = self.dilated(_masked(F.relu(x), mask))
        return x + self.pointwise(F.relu(hidden))


class ResidualStack(nn.Module):
    def __init__(self, width: int, depth: int, growth: int):
        super().__init__()
        dilations = [growth**i for i in range(depth)][::-1]  # widest context first, as in T2M-GPT
        self.blocks = nn.ModuleList(ResidualBlock(width, d) for d in dilations)

    def forward(self, x: torch.Tensor, mask: torch.Tensor | None) -> torch.Tensor:
        for block in self.blocks:
            x = block(x, mask)
        return x


class Encoder(nn.Module):
    def __init__(self, config: TokenizerConfig):
        super().__init__()
        width = config.width
        self.conv_in = nn.Conv1d(config.feature_dim, width, 3, padding=1)
        self.downsample = nn.ModuleList(
            nn.Conv1d(width, width, 4, stride=2, padding=1) for _ in range(config.downsample_stages)
        )
        self.stacks = nn.ModuleList(
            ResidualStack(width, config.residual_depth, config.dilation_growth_rate)
            for _ in range(config.downsample_stages)
        )
        self.conv_out = nn.Conv1d(width, config.code_dim, 3, padding=1)

    def forward(self, x: torch.Tensor, mask: torch.Tensor | None) -> torch.Tensor:
        """(B, feature_dim, T) -> (B, code_dim, T / downsample_factor)."""
        x = F.relu(self.conv_in(_masked(x, mask)))
        for down, stack in zip(self.downsample, self.stacks):
            x = down(_masked(x, mask))
            mask = _downsample_mask(mask)
            x = stack(x, mask)
        return self.conv_out(_masked(x, mask))


class Decoder(nn.Module):
    def __init__(self, config: TokenizerConfig):
        super().__init__()
        width = config.width
        self.conv_in = nn.Conv1d(config.code_dim, width, 3, padding=1)
        self.stacks = nn.ModuleList(
            ResidualStack(width, config.residual_depth, config.dilation_growth_rate)
            for _ in range(config.downsample_stages)
        )
        self.upsample_convs = nn.ModuleList(
            nn.Conv1d(width, width, 3, padding=1) for _ in range(config.downsample_stages)
        )
        self.conv_mid = nn.Conv1d(width, width, 3, padding=1)
        self.conv_out = nn.Conv1d(width, config.feature_dim, 3, padding=1)

    def forward(self, z: torch.Tensor, mask: torch.Tensor | None) -> torch.Tensor:
        """(B, code_dim, N) -> (B, feature_dim, N * downsample_factor); mask at token resolution."""
        x = F.relu(self.conv_in(_masked(z, mask)))
        for stack, conv in zip(self.stacks, self.upsample_convs):
            x = stack(x, mask)
            x = F.interpolate(x, scale_factor=2, mode="nearest")
            mask = _upsample_mask(mask)
            x = conv(_masked(x, mask))
        x = F.relu(self.conv_mid(_masked(x, mask)))
        return self.conv_out(_masked(x, mask))


def make_quantizer(config: TokenizerConfig, *, sync_codebook: bool = False) -> nn.Module:
    """EMA codebook with k-means init and dead-code reset; `sync_codebook` all-reduces its statistics under DDP."""
    from vector_quantize_pytorch import VectorQuantize

    return VectorQuantize(
        dim=config.code_dim,
        codebook_size=config.codebook_size,
        decay=config.ema_decay,
        kmeans_init=True,
        kmeans_iters=config.kmeans_iters,
        threshold_ema_dead_code=config.dead_code_threshold,
        commitment_weight=1.0,  # the training loss applies its own weight to the returned commitment term
        rotation_trick=False,  # plain straight-through gradients, as T2M-GPT
        sync_codebook=sync_codebook,
        channel_last=True,
    )


# Real clips lie within ~30 standard deviations of the training statistics in every feature (measured on the
# built-in data and the shared HumanML3D clip); anything past this is another unit, a scaled copy, or corrupt.
MAX_STANDARD_SCORE = 1000


class MotionTokenizer(Pretrained, nn.Module):
    """VQ-VAE motion tokenizer with the normalisation statistics it was trained with (buffers `mean`, `std`)."""

    model_type = "motion-tokenizer"
    config_class = TokenizerConfig

    def __init__(self, config: TokenizerConfig):
        super().__init__()
        self.config = config
        self.encoder = Encoder(config)
        self.decoder = Decoder(config)
        self.quantizer = make_quantizer(config)
        self.register_buffer("mean", torch.zeros(config.feature_dim))
        self.register_buffer("std", torch.ones(config.feature_dim))

    # ------------------------------------------------------------------------------------------ tensors (training)
    @property
    def device(self) -> torch.device:
        return self.mean.device

    @property
    def codebook_initialised(self) -> bool:
        return bool(self.quantizer._codebook.initted)  # the library keeps the flag on its Codebook module

    def set_normalization(self, mean: np.ndarray, std: np.ndarray) -> None:
        mean = np.asarray(mean, dtype=np.float32)
        std = np.asarray(std, dtype=np.float32)
        if mean.shape != (self.config.feature_dim,) or std.shape != mean.shape:
            raise UserInputError(
                f"normalisation statistics have shapes {mean.shape} and {std.shape}, "
                f"expected ({self.config.feature_dim},) each."
            )
        if not (np.isfinite(mean).all() and np.isfinite(std).all() and (std > 0).all()):
            raise UserInputError("normalisation statistics must be finite with std > 0.")
        self.mean.copy_(torch.from_numpy(mean))
        self.std.copy_(torch.from_numpy(std))

    def encode_latents(self, x: torch.Tensor, mask: torch.Tensor | None = None) -> tuple[torch.Tensor, torch.Tensor | None]:
        """Normalised features (B, T, D), frame mask (B, T) -> latents (B, N, code_dim), token mask (B, N)."""
        conv_mask = None if mask is None else mask[:, None, :].to(x.dtype)
        latents = self.encoder(x.transpose(1, 2), conv_mask).transpose(1, 2)
        token_mask = None if mask is None else mask[:, :: self.config.downsample_factor]
        return latents, token_mask

    def decode_latents(self, z: torch.Tensor, token_mask: torch.Tensor | None = None) -> torch.Tensor:
        """Quantised latents (B, N, code_dim) -> normalised features (B, N * downsample_factor, D)."""
        conv_mask = None if token_mask is None else token_mask[:, None, :].to(z.dtype)
        return self.decoder(z.transpose(1, 2), conv_mask).transpose(1, 2)

    def quantize(
        self, latents: torch.Tensor, token_mask: torch.Tensor | None = None, *, update_codebook: bool = True
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """-> (quantised latents, code ids (B, N) with -1 on padding, commitment loss).

        The codebook's EMA statistics and dead-code reset only move in training mode with update_codebook=True.
        """
        quantized, codes, _, breakdown = self.quantizer(
            latents, mask=token_mask, freeze_codebook=not update_codebook, return_loss_breakdown=True
        )
        return quantized, codes, breakdown.commitment

    def forward(
        self, x: torch.Tensor, mask: torch.Tensor | None = None
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Normalised features (B, T, D), T a multiple of downsample_factor -> (reconstruction, codes, commitment)."""
        latents, token_mask = self.encode_latents(x, mask)
        quantized, codes, commitment = self.quantize(latents, token_mask)
        return self.decode_latents(quantized, token_mask), codes, commitment

    # -------------------------------------------------------------------------------------- numpy API (inference)
    def check_features(self, features: np.ndarray, where: str = "motion") -> np.ndarray:
        features = np.asarray(features)
        dim, factor = self.config.feature_dim, self.config.downsample_factor
        if features.ndim != 2 or features.shape[1] != dim:
            raise UserInputError(f"{where} has shape {features.shape}, expected (T, {dim}) features.")
        if not np.issubdtype(features.dtype, np.number):
            raise UserInputError(f"{where} holds dtype {features.dtype}, expected numbers.")
        if features.shape[0] < factor:
            raise UserInputError(
                f"{where} has {features.shape[0]} frames, expected at least {factor} (one token covers {factor} frames)."
            )
        if not np.isfinite(features).all():
            frame = int(np.argwhere(~np.isfinite(features))[0][0])
            raise UserInputError(f"{where} contains NaN or infinite values (first at frame {frame}).")
        mean, std = self.mean.detach().cpu().numpy(), self.std.detach().cpu().numpy()
        deviation = float(np.abs((features.astype(np.float64) - mean) / std).max())
        if deviation > MAX_STANDARD_SCORE:  # e.g. another unit or a scaled copy: the model would still answer
            raise UserInputError(
                f"{where} has values {deviation:.3g} standard deviations from the training data's mean (at most "
                f"{MAX_STANDARD_SCORE} are accepted); is it in another unit or scale than HumanML3D features?"
            )
        return features.astype(np.float32, copy=False)

    def check_tokens(self, tokens: Sequence[int], where: str = "tokens") -> np.ndarray:
        try:
            ids = np.asarray(tokens)
        except (TypeError, ValueError):
            raise UserInputError(f"{where} must be a list of integers.") from None
        if ids.ndim != 1 or ids.size == 0 or not np.issubdtype(ids.dtype, np.integer):
            raise UserInputError(f"{where} must be a non-empty list of integers, got {ids.shape} {ids.dtype}.")
        bad = (ids < 0) | (ids >= self.config.codebook_size)
        if bad.any():
            raise UserInputError(
                f"{where} holds token id {int(ids[bad][0])}, expected ids in 0..{self.config.codebook_size - 1}."
            )
        return ids.astype(np.int64)

    @torch.no_grad()
    def encode(self, features_list: Sequence[np.ndarray], batch_size: int = 64) -> list[list[int]]:
        """Raw (un-normalised) features (T_i, D) -> token ids, T_i // downsample_factor per motion.

        Trailing frames beyond a multiple of downsample_factor are dropped (as MotionGPT does). Batched with padding
        masks; the result does not depend on the batch. The codebook is never updated here, in any mode.
        """
        factor = self.config.downsample_factor
        motions = [self.check_features(f, where=f"motion {i}") for i, f in enumerate(features_list)]
        motions = [m[: len(m) // factor * factor] for m in motions]
        results: list[list[int]] = [[] for _ in motions]
        for batch in _length_sorted_batches([len(m) for m in motions], batch_size):
            length = max(len(motions[i]) for i in batch)
            x = torch.zeros(len(batch), length, self.config.feature_dim, device=self.device)
            mask = torch.zeros(len(batch), length, dtype=torch.bool, device=self.device)
            for row, i in enumerate(batch):
                x[row, : len(motions[i])] = torch.tensor(motions[i], device=self.device)
                mask[row, : len(motions[i])] = True
            x = (x - self.mean) / self.std
            latents, token_mask = self.encode_latents(x, mask)
            _, codes, _ = self.quantize(latents, token_mask, update_codebook=False)
            for row, i in enumerate(batch):
                results[i] = codes[row, : len(motions[i]) // factor].tolist()
        return results

    @torch.no_grad()
    def decode(self, tokens_list: Sequence[Sequence[int]], batch_size: int = 64) -> list[np.ndarray]:
        """Token ids -> raw features (len * downsample_factor, D) float32 per sequence, batched with padding masks."""
        sequences = [self.check_tokens(t, where=f"token sequence {i}") for i, t in enumerate(tokens_list)]
        factor = self.config.downsample_factor
        results: list[np.ndarray] = [np.empty(0)] * len(sequences)
        for batch in _length_sorted_batches([len(s) for s in sequences], batch_size):
            length = max(len(sequences[i]) for i in batch)
            ids = torch.zeros(len(batch), length, dtype=torch.long, device=self.device)
            token_mask = torch.zeros(len(batch), length, dtype=torch.bool, device=self.device)
            for row, i in enumerate(batch):
                ids[row, : len(sequences[i])] = torch.tensor(sequences[i], device=self.device)
                token_mask[row, : len(sequences[i])] = True
            z = self.quantizer.get_output_from_indices(ids)
            x = self.decode_latents(z, token_mask) * self.std + self.mean
            for row, i in enumerate(batch):
                results[i] = x[row, : len(sequences[i]) * factor].float().cpu().numpy()
        return results

    def save_extra_files(self, directory) -> None:
        """Mean.npy / Std.npy beside the weights, HumanML3D's names, for tools that read statistics from files."""
        from ..io import save_npy

        save_npy(directory / "Mean.npy", self.mean.detach().cpu().numpy())
        save_npy(directory / "Std.npy", self.std.detach().cpu().numpy())


def _length_sorted_batches(lengths: Sequence[int], batch_size: int) -> list[list[int]]:
    """Indices grouped into batches of similar length (less padding); the caller restores the order."""
    if batch_size < 1:
        raise UserInputError(f"batch_size must be >= 1, got {batch_size}.")
    order = sorted(range(len(lengths)), key=lambda i: lengths[i])
    return [order[start : start + batch_size] for start in range(0, len(order), batch_size)]
