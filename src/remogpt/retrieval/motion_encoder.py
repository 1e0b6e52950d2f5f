"""The motion side of PL-TMR: one small Transformer per body part over that part's slice of the normalised
features, the part vectors concatenated and projected into the shared space.

With `parts=1` the single "part" is the whole feature vector: the whole-body TMR-style baseline is the same code
with a different setting.
"""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

from .layers import SummaryTransformer

PART_COUNTS = (1, 6)


def part_slices(parts: int, num_joints: int, feature_dim: int) -> list[tuple[str, np.ndarray]]:
    """(name, feature indices) of each part: the six body parts of docs/humanml3d.md §5, or the whole vector."""
    if parts == 1:
        return [("body", np.arange(feature_dim))]
    if parts == 6:
        from ..motion.parts import BODY_PART_NAMES, body_part_dims

        dims = body_part_dims(num_joints)
        return [(name, np.asarray(dims[name], dtype=np.int64)) for name in BODY_PART_NAMES]
    raise ValueError(f"parts must be one of {PART_COUNTS}, got {parts}")


def downsample_frames(x: torch.Tensor, mask: torch.Tensor, factor: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Average every `factor` consecutive frames (padding excluded); a step is real if any of its frames is."""
    if factor == 1:
        return x, mask
    batch, length, dim = x.shape
    pad = (-length) % factor
    if pad:
        x = nn.functional.pad(x, (0, 0, 0, pad))
        mask = nn.functional.pad(mask, (0, pad), value=False)
    weights = mask.to(x.dtype).view(batch, -1, factor, 1)
    summed = (x.view(batch, -1, factor, dim) * weights).sum(2)
    count = weights.sum(2)
    return summed / count.clamp(min=1.0), count.squeeze(-1) > 0


class MotionEncoder(nn.Module):
    """(B, T, D) normalised features + (B, T) mask -> (B, latent_dim)."""

    def __init__(
        self,
        *,
        parts: int,
        num_joints: int,
        feature_dim: int,
        width: int,
        layers: int,
        heads: int,
        latent_dim: int,
        ff_mult: int = 2,
        dropout: float = 0.1,
        max_frames: int = 200,
        downsample: int = 1,
        pooling: str = "token",
    ):
        super().__init__()
        slices = part_slices(parts, num_joints, feature_dim)
        self.part_names = [name for name, _ in slices]
        self.downsample = int(downsample)
        for name, index in slices:
            # index buffers travel with the model (device moves) and are rebuilt from the config, not saved
            self.register_buffer(f"index_{name}", torch.as_tensor(index, dtype=torch.long), persistent=False)
        max_len = -(-max_frames // self.downsample)
        self.part_encoders = nn.ModuleDict(
            {
                name: SummaryTransformer(
                    len(index), width, layers, heads, ff_mult=ff_mult, dropout=dropout, max_len=max_len, pooling=pooling
                )
                for name, index in slices
            }
        )
        self.projection = nn.Linear(width * len(slices), latent_dim)

    def forward(self, features: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        features, mask = downsample_frames(features, mask, self.downsample)
        pieces = [
            encoder(features.index_select(-1, getattr(self, f"index_{name}")), mask)
            for name, encoder in self.part_encoders.items()
        ]
        return self.projection(torch.cat(pieces, dim=-1))
