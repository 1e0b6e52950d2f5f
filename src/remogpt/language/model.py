"""The motion-language model: a T5 encoder-decoder over the merged text + motion vocabulary.

A model directory holds config.json + model.safetensors (our Pretrained contract) and tokenizer/ (the vocabulary).
Built from a preset (`tiny` for tests, `small` for 2 CPU cores, `base` = the paper's T5-base, 12 + 12 layers) or
from a local pretrained T5 directory (e.g. flan-t5-base) with its embeddings resized for the motion tokens.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Sequence

import torch
from torch import nn

from ..errors import UserInputError
from ..pretrained import Pretrained, resolve_model_dir
from .vocabulary import MotionVocabulary

TOKENIZER_SUBDIR = "tokenizer"

# T5Config fields per preset; `base` is T5-base (v1.1 style gated-GELU, as flan-t5-base).
PRESETS: dict[str, dict[str, Any]] = {
    "tiny": dict(d_model=64, d_ff=128, num_layers=2, num_decoder_layers=2, num_heads=2, d_kv=32),
    # sized so the four-setting retrieval ablation trains on 2 CPU cores in about an hour
    "small": dict(d_model=128, d_ff=512, num_layers=3, num_decoder_layers=3, num_heads=4, d_kv=32),
    "medium": dict(d_model=256, d_ff=1024, num_layers=4, num_decoder_layers=4, num_heads=4, d_kv=64),
    "base": dict(d_model=768, d_ff=2048, num_layers=12, num_decoder_layers=12, num_heads=12, d_kv=64),
}


@dataclass
class LanguageModelConfig:
    codebook_size: int = 512
    t5: dict = field(default_factory=dict)  # the full T5Config (to_dict), so any local T5 shape round-trips
    max_prompt_tokens: int = 512
    max_motion_tokens: int = 52  # 196 frames / 4 + <som> + <eom> + </s>
    max_caption_tokens: int = 48
    copy_head: bool = False  # a copy path from the prompt (language/copy.py); added for stage 2 by `--copy-head`
    copy_mixture: str = "gate"  # how it mixes with generating: "gate" or "joint" (language/copy.py CopyHead)
    # The query's retriever embedding as `query_prefix` vectors in front of the prompt (0 = off): the T5 is trained
    # from scratch here, without the language knowledge of the paper's pretrained T5-base, and the retriever's
    # caption (or motion) embedding is the pretrained, motion-grounded reading of the query that we do have.
    query_prefix: int = 0
    query_embedding_dim: int = 0  # the retriever's latent size (its embeddings are unit vectors)


def t5_config_for(preset: str, vocab: MotionVocabulary, dropout: float = 0.1) -> dict:
    from transformers import T5Config

    if preset not in PRESETS:
        raise UserInputError(f"unknown language-model preset '{preset}', expected one of {', '.join(PRESETS)}.")
    config = T5Config(
        vocab_size=len(vocab),
        feed_forward_proj="gated-gelu",
        dropout_rate=dropout,
        pad_token_id=vocab.pad_id,
        eos_token_id=vocab.eos_id,
        decoder_start_token_id=vocab.pad_id,
        # Tied input/output embeddings with the decoder output scaled by d_model**-0.5 (original T5). transformers 5
        # always ties T5's head and reads tie_word_embeddings=False only as "do not scale", which leaves logits of
        # std sqrt(d_model) and a first loss near 40; so the flag is left at its default.
        **PRESETS[preset],
    )
    return _plain_t5_dict(config)


def _make_t5(config: LanguageModelConfig):
    """The T5 the config describes: plain, or with the copy path (language/copy.py)."""
    from transformers import T5Config, T5ForConditionalGeneration

    if config.copy_head:
        from .copy import CopyT5ForConditionalGeneration

        return CopyT5ForConditionalGeneration(T5Config(**config.t5), mixture=config.copy_mixture)
    return T5ForConditionalGeneration(T5Config(**config.t5))


def _query_projection(config: LanguageModelConfig) -> nn.Linear:
    """Retriever embedding -> `query_prefix` vectors of the T5's width, concatenated."""
    return nn.Linear(config.query_embedding_dim, config.query_prefix * config.t5["d_model"])


def _plain_t5_dict(config) -> dict:
    values = config.to_dict()
    # keep only what T5Config needs to rebuild the architecture (no transformers bookkeeping)
    drop = {"transformers_version", "_name_or_path", "architectures", "torch_dtype", "dtype", "output_past"}
    return {k: v for k, v in values.items() if k not in drop}


class MotionLanguageModel(Pretrained, nn.Module):
    model_type = "remogpt-language-model"
    config_class = LanguageModelConfig

    def __init__(self, config: LanguageModelConfig, vocabulary: MotionVocabulary | None = None):
        super().__init__()
        self.config = config
        self.vocabulary = vocabulary
        self.t5 = _make_t5(config)
        if config.query_prefix:
            if config.copy_head:
                raise UserInputError("a query prefix and a copy head cannot be combined (the copy path reads prompt ids).")
            self.query_projection = _query_projection(config)

    # ---- construction
    @classmethod
    def from_preset(cls, preset: str, vocabulary: MotionVocabulary, **config: Any) -> "MotionLanguageModel":
        return cls(LanguageModelConfig(codebook_size=vocabulary.codebook_size, t5=t5_config_for(preset, vocabulary), **config), vocabulary)

    @classmethod
    def from_t5(cls, directory: str | os.PathLike, codebook_size: int, **config: Any) -> "MotionLanguageModel":
        """A local pretrained T5 directory (weights + tokenizer), extended with the motion tokens."""
        from transformers import T5ForConditionalGeneration

        directory = Path(directory)
        if not (directory / "config.json").is_file():
            raise UserInputError(f"'{directory}' is not a local Hugging Face T5 directory (no config.json).")
        vocabulary = MotionVocabulary.load(directory, codebook_size)
        t5 = T5ForConditionalGeneration.from_pretrained(str(directory))
        t5.resize_token_embeddings(len(vocabulary))
        model = cls(LanguageModelConfig(codebook_size=codebook_size, t5=_plain_t5_dict(t5.config), **config), vocabulary)
        model.t5.load_state_dict(t5.state_dict())
        return model

    def add_copy_head(self, mixture: str = "gate") -> None:
        """The same model with a copy path (language/copy.py) freshly initialised beside the trained weights."""
        if self.config.copy_head:
            return
        state = self.t5.state_dict()
        self.config.copy_head, self.config.copy_mixture = True, mixture
        self.t5 = _make_t5(self.config).to(self.device)
        missing, unexpected = self.t5.load_state_dict(state, strict=False)
        assert not unexpected and all(k.startswith("copy_head.") for k in missing), (missing, unexpected)

    def add_query_prefix(self, vectors: int, embedding_dim: int) -> None:
        """The same model reading the query's retriever embedding as `vectors` prefix vectors (freshly initialised)."""
        if self.config.query_prefix:
            return
        self.config.query_prefix, self.config.query_embedding_dim = vectors, embedding_dim
        self.query_projection = _query_projection(self.config).to(self.device)

    def source_inputs(self, input_ids: torch.Tensor) -> dict[str, torch.Tensor]:
        """What the T5's forward needs besides encoder outputs: the prompt ids, for a copy model."""
        return {"source_ids": input_ids} if self.config.copy_head else {}

    def save_extra_files(self, directory: Path) -> None:
        self.vocabulary.save(directory / TOKENIZER_SUBDIR)

    @classmethod
    def from_pretrained(cls, directory: str | os.PathLike, map_location: Any = "cpu") -> "MotionLanguageModel":
        model = super().from_pretrained(directory, map_location)
        model.vocabulary = MotionVocabulary.load(resolve_model_dir(directory) / TOKENIZER_SUBDIR, model.config.codebook_size)
        return model

    # ---- use
    @property
    def device(self) -> torch.device:
        return next(self.parameters()).device

    def encode_prompts(self, prompts: Sequence[str]) -> dict[str, torch.Tensor]:
        """Tokenise prompts with padding and an attention mask (always pass the mask to generate)."""
        batch = self.vocabulary.tokenizer(
            list(prompts), padding=True, truncation=True, max_length=self.config.max_prompt_tokens, return_tensors="pt"
        )
        return {"input_ids": batch["input_ids"].to(self.device), "attention_mask": batch["attention_mask"].to(self.device)}

    def encoder_inputs(self, prompts: Sequence[str], query_embeddings: torch.Tensor | None = None) -> dict[str, torch.Tensor]:
        """What the T5 encoder reads: the prompt ids, or, with a query prefix, the prompt's embeddings behind the
        projected query embeddings. A row whose query embedding is all zeros (a task without a text or motion query,
        such as prediction) has its prefix masked out; so does every row when `query_embeddings` is None."""
        inputs = self.encode_prompts(prompts)
        if not self.config.query_prefix:
            return inputs
        rows, vectors = len(prompts), self.config.query_prefix
        if query_embeddings is None:
            query_embeddings = torch.zeros(rows, self.config.query_embedding_dim)
        query = torch.as_tensor(query_embeddings, dtype=torch.float32, device=self.device)
        if query.shape != (rows, self.config.query_embedding_dim):
            raise ValueError(f"query embeddings of shape {tuple(query.shape)} for {rows} prompts of this model")
        prefix = self.query_projection(query).view(rows, vectors, -1)
        embedded = self.t5.get_input_embeddings()(inputs["input_ids"])
        present = (query.abs().sum(-1, keepdim=True) > 0).to(inputs["attention_mask"].dtype).expand(rows, vectors)
        return {
            "inputs_embeds": torch.cat([prefix.to(embedded.dtype), embedded], 1),
            "attention_mask": torch.cat([present, inputs["attention_mask"]], 1),
        }

    def encode_targets(self, targets: Sequence[str]) -> torch.Tensor:
        """Target ids with padding replaced by -100 (ignored by the loss)."""
        limit = max(self.config.max_motion_tokens, self.config.max_caption_tokens)
        labels = self.vocabulary.tokenizer(
            list(targets), padding=True, truncation=True, max_length=limit, return_tensors="pt"
        )["input_ids"].to(self.device)
        labels[labels == self.vocabulary.pad_id] = -100
        return labels

    def loss(
        self, prompts: Sequence[str], targets: Sequence[str], corruption: float = 0.0, query_embeddings: torch.Tensor | None = None
    ) -> torch.Tensor:
        """Teacher-forced cross-entropy. `corruption` > 0: each example's decoder-input motion codes are replaced by
        random codes with a rate drawn from [0, corruption] (T2M-GPT's remedy for exposure bias: the model learns
        to continue from its own imperfect samples); the labels stay the true codes."""
        labels = self.encode_targets(targets)
        decoder_input_ids = self.t5._shift_right(labels)
        if corruption > 0:
            decoder_input_ids = self.corrupt_motion_codes(decoder_input_ids, corruption)
        inputs = self.encoder_inputs(prompts, query_embeddings)
        return self.t5(**inputs, decoder_input_ids=decoder_input_ids, labels=labels).loss

    def corrupt_motion_codes(self, ids: torch.Tensor, max_rate: float) -> torch.Tensor:
        first, size = self.vocabulary.first_motion_id, self.vocabulary.codebook_size
        is_code = _is_code(self.vocabulary, ids)
        rate = torch.rand(ids.shape[0], 1, device=ids.device) * max_rate
        replace = is_code & (torch.rand(ids.shape, device=ids.device) < rate)
        random_codes = torch.randint(first, first + size, ids.shape, device=ids.device)
        return torch.where(replace, random_codes, ids)

    @torch.no_grad()
    def generate_ids(
        self,
        prompts: Sequence[str],
        *,
        motion: bool,
        num_samples: int = 1,
        do_sample: bool = True,
        top_k: int | None = None,
        top_p: float | None = None,
        temperature: float = 1.0,
        num_beams: int = 1,
        max_new_tokens: int | None = None,
        min_motion_tokens: int | Sequence[int] = 0,
        guidance_prompts: Sequence[str] | None = None,
        guidance_scale: float = 0.0,
        query_embeddings: torch.Tensor | None = None,
        anchor_codes: Sequence[Sequence[int]] | None = None,
        anchor_weight: float = 0.0,
    ) -> list[list[int]]:
        """Generated ids for every prompt (num_samples consecutive rows per prompt), batched with the KV cache.

        With `motion=True` only motion tokens, <som>, <eom> and </s> may be produced (a logits mask), so the output
        is always a motion span; `min_motion_tokens` (one number, or one per prompt) delays <eom> until at least that
        many codes were written, which is how a requested length is honoured. `query_embeddings`: one retriever
        embedding per prompt for a model with a query prefix. `anchor_codes` (motion codes per prompt) with
        `anchor_weight` > 0: ReferenceAnchor.
        """
        from transformers import LogitsProcessorList

        inputs = self.encoder_inputs(prompts, query_embeddings)
        rows = num_samples * num_beams
        minimum = torch.as_tensor(min_motion_tokens).expand(len(prompts)).repeat_interleave(rows)
        processors = LogitsProcessorList([MotionOnlyLogits(self.vocabulary, minimum) if motion else TextOnlyLogits(self.vocabulary)])
        if guidance_prompts is not None and guidance_scale != 0.0:
            if len(guidance_prompts) != len(prompts):
                raise ValueError("guidance_prompts needs one prompt per prompt")
            processors.insert(0, ContextGuidance(self, guidance_prompts, guidance_scale, rows, query_embeddings))
        if anchor_codes is not None and anchor_weight != 0.0:
            if len(anchor_codes) != len(prompts):
                raise ValueError("anchor_codes needs one code sequence per prompt")
            processors.append(ReferenceAnchor(self.vocabulary, anchor_codes, anchor_weight, rows))
        limit = max_new_tokens or (self.config.max_motion_tokens if motion else self.config.max_caption_tokens)
        output = self.t5.generate(
            **inputs,
            max_new_tokens=limit,
            do_sample=do_sample,
            top_k=top_k if do_sample else None,
            top_p=top_p if do_sample else None,
            temperature=temperature if do_sample else None,
            num_beams=num_beams,
            num_return_sequences=num_samples,
            logits_processor=processors,
            use_cache=True,
            **self.source_inputs(inputs.get("input_ids")),
        )
        return [[int(i) for i in row if int(i) != self.vocabulary.pad_id] for row in output.tolist()]


def _is_code(vocabulary: MotionVocabulary, ids: torch.Tensor) -> torch.Tensor:
    """Where `ids` hold motion codes (not text, markers or padding)."""
    first = vocabulary.first_motion_id
    return (ids >= first) & (ids < first + vocabulary.codebook_size)


class ContextGuidance:
    """Classifier-free guidance between each prompt and another: the same prompt without its Context block
    (context guidance), or its instruction without caption and context (text guidance, pipeline.SamplingSettings).

    log p = (1 + s) log p(x | prompt) - s log p(x | other prompt): s > 0 moves each step toward what the prompt adds
    over the other (the retrieved references; the caption and references). The other prompts run through the decoder
    alongside, with their own KV cache.
    Must be the first logits processor (before the masks that set -inf).
    """

    def __init__(self, model: "MotionLanguageModel", prompts: Sequence[str], scale: float, rows_per_prompt: int, query_embeddings=None):
        inputs = model.encoder_inputs(prompts, query_embeddings)
        self.t5, self.scale = model.t5, scale
        self.attention_mask = inputs["attention_mask"].repeat_interleave(rows_per_prompt, 0)
        self.source = model.source_inputs(inputs["input_ids"].repeat_interleave(rows_per_prompt, 0)) if "input_ids" in inputs else {}
        encoded = self.t5.get_encoder()(**inputs)
        self.encoder_outputs = (encoded.last_hidden_state.repeat_interleave(rows_per_prompt, 0),)
        self.cache, self.seen = None, 0

    @torch.no_grad()
    def __call__(self, input_ids: torch.Tensor, scores: torch.Tensor) -> torch.Tensor:
        new = input_ids[:, self.seen :]
        out = self.t5(
            encoder_outputs=self.encoder_outputs, attention_mask=self.attention_mask, decoder_input_ids=new,
            cache=self.cache, use_cache=True, **self.source,
        )  # fmt: skip
        self.cache, self.seen = out.cache, input_ids.shape[1]
        conditional = torch.log_softmax(scores.float(), -1)
        unconditional = torch.log_softmax(out.logits[:, -1].float(), -1)
        return conditional + self.scale * (conditional - unconditional)


class ReferenceAnchor:
    """A decoding prior toward a reference motion: the code the reference holds at the position being written gets
    `weight` added to its log-probability (e**weight times likelier), so sampling follows the reference where the model
    is unsure and leaves it where the model is confident of something else; weight 0 is plain sampling, a large
    weight copies the reference. Positions align because decoding writes the reference's length
    (pipeline.SamplingSettings.reference_anchor, bench/results/lm_reference_anchor.md)."""

    def __init__(self, vocabulary: MotionVocabulary, codes: Sequence[Sequence[int]], weight: float, rows_per_prompt: int = 1):
        longest = max((len(c) for c in codes), default=0)
        targets = torch.full((len(codes), max(longest, 1)), -1, dtype=torch.long)  # one row per prompt, -1 past its end
        for row, row_codes in enumerate(codes):
            targets[row, : len(row_codes)] = torch.as_tensor(list(row_codes), dtype=torch.long) + vocabulary.first_motion_id
        self.targets = targets.repeat_interleave(rows_per_prompt, 0)
        self.vocabulary, self.weight = vocabulary, weight

    def __call__(self, input_ids: torch.Tensor, scores: torch.Tensor) -> torch.Tensor:
        written = _is_code(self.vocabulary, input_ids).sum(-1)  # codes so far = the position now
        opened = (input_ids == self.vocabulary.start_id).any(-1)
        targets = self.targets.to(scores.device)
        position = written.clamp(max=targets.shape[1] - 1)
        target = targets.gather(1, position[:, None]).squeeze(1)
        rows = torch.nonzero(opened & (written < targets.shape[1]) & (target >= 0)).squeeze(1)
        scores = scores.clone()
        scores[rows, target[rows]] += self.weight
        return scores


class TextOnlyLogits:
    """Captions are words: no motion codes, motion markers or padding, and no end before the first word."""

    def __init__(self, vocabulary: MotionVocabulary):
        first = vocabulary.first_motion_id
        markers = [vocabulary.start_id, vocabulary.end_id, vocabulary.mask_id, vocabulary.pad_id]
        self.banned = torch.tensor(list(range(first, first + vocabulary.codebook_size)) + markers)
        self.eos_id = vocabulary.eos_id

    def __call__(self, input_ids: torch.Tensor, scores: torch.Tensor) -> torch.Tensor:
        scores = scores.clone()
        scores[:, self.banned.to(scores.device)] = float("-inf")
        if input_ids.shape[-1] <= 1:  # only the decoder start token so far
            scores[:, self.eos_id] = float("-inf")
        return scores


class MotionOnlyLogits:
    """Restrict decoding to one motion span: <som> once, then motion codes, <eom>, </s>; no end before `min_codes` codes."""

    def __init__(self, vocabulary: MotionVocabulary, min_codes: int | torch.Tensor = 0):
        self.vocabulary = vocabulary
        self.min_codes = torch.as_tensor(min_codes)  # a number, or one per generated row
        first = vocabulary.first_motion_id
        self.allowed = torch.tensor(
            list(range(first, first + vocabulary.codebook_size)) + [vocabulary.start_id, vocabulary.end_id, vocabulary.eos_id]
        )

    def __call__(self, input_ids: torch.Tensor, scores: torch.Tensor) -> torch.Tensor:
        mask = torch.full_like(scores, float("-inf"))
        mask[:, self.allowed.to(scores.device)] = 0.0
        # <som> opens the span, first and once: codes written before it would count toward `min_codes` but be
        # dropped by motion_codes (a short motion where a length was asked); after it, codes and the end markers
        opened = (input_ids == self.vocabulary.start_id).any(-1)
        mask[opened, self.vocabulary.start_id] = float("-inf")
        mask[~opened] = float("-inf")
        mask[~opened, self.vocabulary.start_id] = 0.0
        if bool((self.min_codes > 0).any()):
            written = _is_code(self.vocabulary, input_ids).sum(-1)
            early = written < self.min_codes.to(written.device)
            mask[early, self.vocabulary.end_id] = float("-inf")
            mask[early, self.vocabulary.eos_id] = float("-inf")
        return scores + mask
