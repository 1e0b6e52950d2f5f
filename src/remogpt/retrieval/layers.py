"""The one building block of both PL-TMR encoders: a small Transformer over a padded sequence that returns one
vector per sequence, read from a learned summary token (or the masked mean of the outputs)."""

from __future__ import annotations

import math

import torch
from torch import nn

POOLINGS = ("token", "mean")


def sinusoidal_positions(length: int, width: int) -> torch.Tensor:
    """(length, width) fixed sine/cosine positional encoding (Vaswani et al.)."""
    position = torch.arange(length, dtype=torch.float32).unsqueeze(1)
    frequency = torch.exp(torch.arange(0, width, 2, dtype=torch.float32) * (-math.log(10000.0) / width))
    table = torch.zeros(length, width)
    table[:, 0::2] = torch.sin(position * frequency)
    table[:, 1::2] = torch.cos(position * frequency[: width // 2])
    return table


class SummaryTransformer(nn.Module):
    """Linear input projection -> [summary token; sequence] + positions -> Transformer encoder -> (B, width).

    `mask` is True on real steps; padded steps are ignored by attention and by mean pooling.
    """

    def __init__(
        self,
        input_dim: int,
        width: int,
        layers: int,
        heads: int,
        *,
        ff_mult: int = 2,
        dropout: float = 0.1,
        max_len: int = 512,
        pooling: str = "token",
    ):
        super().__init__()
        if pooling not in POOLINGS:
            raise ValueError(f"pooling must be one of {POOLINGS}, got {pooling!r}")
        self.pooling = pooling
        self.input = nn.Linear(input_dim, width)
        self.summary = nn.Parameter(torch.randn(1, 1, width) * 0.02)
        self.register_buffer("positions", sinusoidal_positions(max_len + 1, width), persistent=False)
        layer = nn.TransformerEncoderLayer(
            d_model=width,
            nhead=heads,
            dim_feedforward=ff_mult * width,
            dropout=dropout,
            activation="gelu",
            batch_first=True,
            norm_first=True,
        )
        # nested tensors are a fast path for inference only and warn with norm_first; keep the plain path
        self.encoder = nn.TransformerEncoder(layer, num_layers=layers, enable_nested_tensor=False)
        self.norm = nn.LayerNorm(width)
        self.dropout = nn.Dropout(dropout)

    def forward(self, x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        batch, length, _ = x.shape
        if length + 1 > self.positions.shape[0]:
            raise ValueError(f"sequence of {length} steps is longer than the encoder's maximum {self.positions.shape[0] - 1}")
        h = self.input(x)
        h = torch.cat([self.summary.expand(batch, -1, -1), h], dim=1)
        h = self.dropout(h + self.positions[: length + 1])
        keep = torch.cat([torch.ones(batch, 1, dtype=torch.bool, device=mask.device), mask], dim=1)
        h = self.norm(self.encoder(h, src_key_padding_mask=~keep))
        if self.pooling == "token":
            return h[:, 0]
        weights = mask.unsqueeze(-1).to(h.dtype)
        return (h[:, 1:] * weights).sum(1) / weights.sum(1).clamp(min=1.0)
