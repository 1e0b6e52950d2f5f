"""ReMoGPT as one object: the language model with its frozen motion tokenizer, retriever and database.

    model = ReMoGPT.from_pretrained("runs/remogpt")
    motions = model.generate(["a person waves with the right hand"])      # features + joints + context
    captions = model.caption([features])

Everything is batched: retrieval for all queries at once, one padded `generate` call per batch.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Sequence

import numpy as np

from .config import MODEL_CONFIG_NAME, ReMoGPTConfig, is_model_directory
from .errors import UserInputError

Frames = int | Sequence[int | None] | None  # a requested length in frames: one for all, or one per motion
MAX_CANDIDATES = 64  # motions sampled per requested motion when reranking
MAX_BEAMS = 16  # caption beam width
MAX_CAPTION_ROWS = 1024  # prompts x beams decoded in one call (600 test motions x 16 beams in one call took 14 GB)
# prompts x samples x candidates sampled in one call: about 1.7 MB each with text guidance (1 600 rows peaked at
# 3.3 GB), so at most ~8 GB; the built-in t2m protocol's 600 texts x 8 candidates still fit one call, which keeps the
# shipped report's seeded samples as they were (a different split into calls draws different samples)
MAX_MOTION_ROWS = 4800


@dataclass
class GeneratedMotion:
    text: str
    tokens: list[int]
    features: np.ndarray  # (T, D) raw features
    joints: np.ndarray  # (T, J, 3)
    context: list = field(default_factory=list)  # prompt references (caption, motion span)
    notices: list[str] = field(default_factory=list)  # what the model cannot promise about this one (notices.py)


@dataclass
class SamplingSettings:
    temperature: float = 1.0
    top_k: int | None = None
    top_p: float | None = None
    caption_beams: int = 1  # greedy by default; >1 = beam search for captions
    # >1: keep this many beams per caption (the beam width is at least this) and write the one PL-TMR finds
    # closest to the motion (bench/results/lm_caption_rerank.md)
    caption_candidates: int = 1
    # >1: sample this many motions per requested motion and keep the one PL-TMR finds closest to the text
    # (reranking; the retriever is the model's own part, never the evaluator)
    candidates: int = 1
    # >0: classifier-free guidance of motion tokens toward the prompt's references (vs the prompt without them)
    context_guidance: float = 0.0
    # >0: classifier-free guidance toward the whole prompt (vs the same instruction without caption and context);
    # for a model trained with caption dropout (`train lm --caption-dropout`); not with context guidance
    text_guidance: float = 0.0
    # every decoded motion (generated, references, reconstructions alike) gets its planted feet held still
    plant_feet: bool = True
    # >1: a text's candidates are sampled from this many prompts in turn, holding its top-1 references, the next
    # ones, and so on (each prompt its reference's length), so reranking chooses among several neighbours' variations
    reference_spread: int = 1
    # a text without a requested length gets its top-1 reference's length, asked for in the prompt ("a motion of
    # N frames") and held to; off: the model ends each motion itself (bench/results/lm_reference_length.md)
    reference_length: bool = True
    # >0: each code's log-probability gains this much where it is the code the prompt's top-1 text->motion reference
    # holds at that position (language.model.ReferenceAnchor): the model edits its reference instead of starting
    # afresh; 0 samples plainly (bench/results/lm_reference_anchor.md)
    reference_anchor: float = 0.0
    # the anchor holds only where the top-1 reference's retriever similarity to the text is at least this (a close
    # neighbour is worth following, a far one is not); -1 (a cosine's least): everywhere
    anchor_min_similarity: float = -1.0

    def check(self) -> None:
        """One sentence for every setting outside what decoding can use (CLI, server and library alike)."""
        import math

        def number(value) -> bool:
            return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)

        if not number(self.temperature) or self.temperature <= 0:
            raise UserInputError(f"the temperature must be a positive number, not {self.temperature}.")
        if self.top_k is not None and (not isinstance(self.top_k, int) or self.top_k < 1):
            raise UserInputError(f"top-k must be a whole number of at least 1, not {self.top_k}.")
        if self.top_p is not None and (not number(self.top_p) or not 0 < self.top_p <= 1):
            raise UserInputError(f"top-p must lie in (0, 1], not {self.top_p}.")
        if not isinstance(self.caption_beams, int) or not 1 <= self.caption_beams <= MAX_BEAMS:
            raise UserInputError(f"the beam width must be between 1 and {MAX_BEAMS}, not {self.caption_beams}.")
        if not _whole(self.caption_candidates, 1, MAX_BEAMS):
            raise UserInputError(f"the number of caption candidates must be between 1 and {MAX_BEAMS}, not {self.caption_candidates}.")
        if not number(self.context_guidance) or not 0 <= self.context_guidance <= 10:
            raise UserInputError(f"the context guidance must be between 0 and 10, not {self.context_guidance}.")
        if not number(self.text_guidance) or not 0 <= self.text_guidance <= 10:
            raise UserInputError(f"the text guidance must be between 0 and 10, not {self.text_guidance}.")
        if self.text_guidance and self.context_guidance:
            raise UserInputError("use either text guidance or context guidance, not both.")
        if not number(self.reference_anchor) or not 0 <= self.reference_anchor <= 20:
            raise UserInputError(f"the reference anchor must be between 0 and 20, not {self.reference_anchor}.")
        if not number(self.anchor_min_similarity) or not -1 <= self.anchor_min_similarity <= 1:
            raise UserInputError(f"the anchor's minimum similarity must be between -1 and 1, not {self.anchor_min_similarity}.")
        if not _whole(self.candidates, 1, MAX_CANDIDATES):
            raise UserInputError(f"the number of candidates must be between 1 and {MAX_CANDIDATES}, not {self.candidates}.")
        if not _whole(self.reference_spread, 1, MAX_CANDIDATES) or self.candidates % self.reference_spread:
            raise UserInputError(f"the reference spread must be a whole number that divides the candidates ({self.candidates}), not {self.reference_spread}.")


def _best_of_groups(queries: np.ndarray, rows: np.ndarray, group: int) -> list[int]:
    """Reranking by the retriever: the index of the row closest to its query (cosine of unit embeddings) in each run
    of `group` consecutive rows; query i owns the runs of rows i * len(rows) // len(queries) onward (text-major)."""
    grouped = rows.reshape(len(queries), -1, group, rows.shape[-1])  # query, sample, candidate, dim
    best = np.einsum("qd,qscd->qsc", queries, grouped).argmax(-1)
    return [(i * group) + int(b) for i, b in enumerate(best.reshape(-1))]


def _top_reference(references):
    """The reference a text's motion follows (its length, the anchor): the top-1 text->motion reference, else the
    first reference with a motion; None without one."""
    with_motion = [ref for ref in references if ref.codes]
    return next((ref for ref in with_motion if ref.kind == "text->motion"), with_motion[0] if with_motion else None)


def _calls(prompts: int, rows_per_prompt: int, max_rows: int) -> list[slice]:
    """The prompts of one decoding split into calls of at most `max_rows` rows (at least one prompt per call):
    every row holds its KV cache, so the rows of one call bound the memory."""
    step = max(1, max_rows // rows_per_prompt)
    return [slice(start, start + step) for start in range(0, prompts, step)]


def _whole(value, low: int, high: int) -> bool:
    """An integer (numpy's too, never a bool) within [low, high]."""
    return isinstance(value, (int, np.integer)) and not isinstance(value, bool) and low <= value <= high


class ReMoGPT:
    """The language model with its frozen parts; a model directory is written and read only here (config.py)."""

    def __init__(self, language_model, motion_tokenizer, retriever=None, database=None, config: ReMoGPTConfig | None = None):
        from .language.context import ContextRetriever

        self.lm, self.motion_tokenizer = language_model, motion_tokenizer
        self.retriever, self.database = retriever, database
        self.config = config or ReMoGPTConfig(retrieval="none")
        self.evaluator_dir: Path | None = None  # the evaluator shipped beside the model, when loaded from a directory
        self.database_source: str | None = None  # another database in use (use_database), for results' provenance
        self._scope = None  # notices.PromptScope of the database's captions, built on first use
        mode = self.config.retrieval if database is not None else "none"
        self.context = ContextRetriever(retriever, database, language_model.vocabulary, mode, self.config.k)
        self.sampling = SamplingSettings(
            candidates=self.config.candidates if retriever is not None else 1, context_guidance=self.config.context_guidance,
            text_guidance=self.config.text_guidance, caption_candidates=self.config.caption_candidates if retriever is not None else 1,
            plant_feet=self.config.plant_feet, reference_length=self.config.reference_length,
        )

    @classmethod
    def from_pretrained(cls, directory: str | os.PathLike | None = None, device: str = "cpu") -> "ReMoGPT":
        """A model directory written by `save_pretrained`; None = the model shipped with the package."""
        from .language.model import MotionLanguageModel
        from .retrieval.database import RetrievalDatabase
        from .retrieval.model import PLTMR
        from .shipped import model_dir_or_shipped
        from .tokenizer.model import MotionTokenizer

        directory = model_dir_or_shipped(directory)
        if not is_model_directory(directory):
            raise UserInputError(f"'{directory}' is not a ReMoGPT model directory (no {MODEL_CONFIG_NAME}); train one with `remogpt train lm`.")
        config = ReMoGPTConfig.read(directory)
        lm = MotionLanguageModel.from_pretrained(directory, map_location=device)
        tokenizer = MotionTokenizer.from_pretrained(directory / config.motion_tokenizer, map_location=device)
        retriever = database = None
        if config.retrieval != "none" or config.candidates > 1 or config.caption_candidates > 1:  # it also reranks
            retriever = PLTMR.from_pretrained(directory / config.retriever, map_location=device)
        if config.retrieval != "none":
            database = RetrievalDatabase.load(directory / config.database)
        model = cls(lm, tokenizer, retriever, database, config)
        if (directory / config.evaluator).is_dir():
            model.evaluator_dir = directory / config.evaluator
        return model

    @classmethod
    def from_training(cls, parts) -> "ReMoGPT":
        """The model that `language.train.train_language_model` trained (its LanguageModelParts), ready to save."""
        from dataclasses import asdict

        training = parts.config
        config = ReMoGPTConfig(
            retrieval=training.retrieval, k=training.k, fps=parts.fps, feature_dim=parts.feature_dim,
            candidates=training.candidates, caption_candidates=training.caption_candidates, text_guidance=training.text_guidance, motion_task_context=training.motion_task_context, training=asdict(training),
        )  # fmt: skip
        return cls(parts.model, parts.motion_tokenizer, parts.retriever, parts.database, config)

    def save_pretrained(self, directory: str | os.PathLike, evaluator: str | os.PathLike | None = None) -> Path:
        """Write the whole model directory: the language model, every component, `remogpt.json` last (complete).

        `evaluator` is an evaluator model directory to ship beside the model (default: the one it was loaded with).
        A component read from a directory is copied from it whole (its extra files, such as a tokenizer's own
        evaluation, stay with it); one built in memory is saved. Components already in place are left as they are.
        """
        directory = Path(directory)
        directory.mkdir(parents=True, exist_ok=True)
        places = {name: directory / sub for name, sub in self.config.components().items()}
        self.lm.save_pretrained(directory)
        for name, component in (("motion_tokenizer", self.motion_tokenizer), ("retriever", self.retriever)):
            if component is not None:
                _place(getattr(component, "pretrained_from", None), places[name], component.save_pretrained)
        if self.database is not None:
            _place(getattr(self.database, "location", None), places["database"], self.database.save)
        evaluator = Path(evaluator) if evaluator is not None else self.evaluator_dir
        if evaluator is not None:
            from .pretrained import resolve_model_dir

            _place(resolve_model_dir(evaluator), places["evaluator"], None)
        self.config.write(directory)
        return directory

    # ---- text to motion
    def generate_motions(
        self,
        texts: Sequence[str],
        lengths: Sequence[int | None] | None = None,
        num_samples: int = 1,
        seed: int | None = None,
        exclude: Sequence | None = None,
    ) -> list[GeneratedMotion]:
        """Motions for every text (num_samples each, text-major). `lengths` in frames are optional requests;
        `exclude` (retrieval.database.Exclude per text) keeps clips out of the context, as training does with the
        query's own clip (language/self_targets.py prompts training captions)."""
        import torch

        from .language.prompts import build_prompt, first_instruction, unconditional_instruction
        from .motion.features import features_to_joints

        texts, lengths = self._check_request(texts, lengths, num_samples, seed)
        if not texts:
            return []
        if seed is not None:
            torch.manual_seed(seed)
        text_embeddings = self._query_embeddings(texts, "text")
        candidates = self._reranked(self.sampling.candidates, "candidates")
        # the candidates of a text are sampled from `spread` prompts (its top-1 references, the next ones, ...):
        # rows run text, prompt, sample, candidate; `order` regroups them text, sample, prompt, candidate
        spread = self.sampling.reference_spread if candidates > 1 and self.context.mode != "none" else 1
        per_prompt = num_samples * candidates // spread
        ranked = self.context.ranked_for_texts(texts, spread, exclude=exclude, embeddings=text_embeddings)
        references = [alternatives[0] for alternatives in ranked]
        prompt_texts = [text for text in texts for _ in range(spread)]
        prompt_refs = [refs for alternatives in ranked for refs in alternatives]
        prompt_lengths = [frames for frames in lengths for _ in range(spread)]
        if self.sampling.reference_length:
            prompt_lengths = [frames or self._reference_frames(refs) for frames, refs in zip(prompt_lengths, prompt_refs)]
        order = np.arange(len(texts) * spread * per_prompt).reshape(len(texts), spread, num_samples, candidates // spread)
        order = order.transpose(0, 2, 1, 3).reshape(-1)
        prompts, plain_prompts = [], []
        text_guided = self.sampling.text_guidance != 0.0
        for text, frames, refs in zip(prompt_texts, prompt_lengths, prompt_refs):
            task = "t2m_frames" if frames else "t2m"
            instruction = first_instruction(task, caption=text, frames=str(int(frames or 0)))
            prompts.append(build_prompt(instruction, refs))
            if text_guided:  # the unconditional prompt: the instruction and its length, no caption, no context
                plain_prompts.append(build_prompt(unconditional_instruction(task, frames=frames or 0, fps=self.config.fps)))
            else:
                plain_prompts.append(build_prompt(instruction))
        guided = text_guided or (self.sampling.context_guidance != 0.0 and any(references))
        factor = self.motion_tokenizer.config.downsample_factor
        # a requested length: at least that many codes before <eom> (then cut to it), room for them in the budget
        wanted = [max(1, int(frames) // factor) if frames else 1 for frames in prompt_lengths]
        prefix = self._prefix(text_embeddings)
        prefix = None if prefix is None else np.repeat(prefix, spread, axis=0)
        anchors = [list(top.codes) if (top := _top_reference(refs)) and top.similarity >= self.sampling.anchor_min_similarity
                   else [] for refs in prompt_refs]  # fmt: skip
        ids = []
        for part in _calls(len(prompts), per_prompt, MAX_MOTION_ROWS):
            ids += self.lm.generate_ids(
                prompts[part],
                motion=True,
                num_samples=per_prompt,
                temperature=self.sampling.temperature,
                top_k=self.sampling.top_k,
                top_p=self.sampling.top_p,
                min_motion_tokens=wanted[part],
                max_new_tokens=max(self.lm.config.max_motion_tokens, max(wanted[part]) + 3),
                guidance_prompts=plain_prompts[part] if guided else None,
                guidance_scale=self.sampling.text_guidance or self.sampling.context_guidance,
                query_embeddings=None if prefix is None else prefix[part],
                anchor_codes=anchors[part],
                anchor_weight=self.sampling.reference_anchor,
            )
        codes = [self.lm.vocabulary.motion_codes(row) or [0] for row in ids]
        for i, frames in enumerate(np.repeat(np.array(prompt_lengths, dtype=object), per_prompt)):
            if frames:
                codes[i] = codes[i][: max(1, int(frames) // factor)]
        codes, row_prompts = [codes[i] for i in order], order // per_prompt
        features = self._decoded(codes)
        if candidates > 1:
            keep = _best_of_groups(text_embeddings, self.retriever.embed_motions(features), candidates)  # embedded: candidates > 1
            codes, features, row_prompts = [codes[i] for i in keep], [features[i] for i in keep], row_prompts[keep]
        results = []
        for i, (row_codes, row_features) in enumerate(zip(codes, features)):
            text_index = i // num_samples
            results.append(GeneratedMotion(
                texts[text_index], row_codes, row_features, features_to_joints(row_features), prompt_refs[row_prompts[i]],
                self.text_notices(texts[text_index], references[text_index]),
            ))  # fmt: skip
        return results

    # ---- motion to motion: prediction and in-betweening (the third and fourth tasks of the training mix)
    def predict(self, motions: Sequence[np.ndarray], frames: Frames = None, seed: int | None = None) -> list[GeneratedMotion]:
        """Continue every motion (raw features). Each result is the whole motion: the given start through the
        tokenizer and the predicted continuation, decoded together (one smooth clip). `frames`: the continuation's
        length, one for all or one per motion (default: the model decides). Prompted as in training: no retrieved
        context, no text."""
        starts = self._encode_queries(motions, "motion")
        middles = self.continuation_codes(starts, frames, seed)
        return [self.motion_from_codes("prediction", start + new) for start, new in zip(starts, middles)]

    def continuation_codes(self, starts: Sequence[list[int]], frames: Frames = None, seed: int | None = None) -> list[list[int]]:
        """Motion codes that continue every code list (the prediction task)."""
        from .language.prompts import build_prompt, first_instruction

        string = self.lm.vocabulary.motion_string
        context = self._start_context(starts)
        prompts = [build_prompt(first_instruction("prediction", motion_start=string(codes)), refs) for codes, refs in zip(starts, context)]
        return self._sample_codes(prompts, frames, seed)

    def inbetween(
        self, starts: Sequence[np.ndarray], ends: Sequence[np.ndarray], frames: Frames = None, seed: int | None = None
    ) -> list[GeneratedMotion]:
        """Fill the gap between every (start, end) pair of motions (raw features): start + generated + end, decoded
        together. `frames`: the gap's length (default: the model decides)."""
        if len(starts) != len(ends):
            raise UserInputError(f"{len(starts)} start motions for {len(ends)} end motions; give one end per start.")
        heads, tails = self._encode_queries(starts, "start motion"), self._encode_queries(ends, "end motion")
        middles = self.bridge_codes(heads, tails, frames, seed)
        return [self.motion_from_codes("in-between", h + m + t) for h, m, t in zip(heads, middles, tails)]

    def bridge_codes(self, heads: Sequence[list[int]], tails: Sequence[list[int]], frames: Frames = None, seed: int | None = None) -> list[list[int]]:
        """Motion codes that fill the gap between every (head, tail) pair of code lists (the in-between task)."""
        from .language.prompts import build_prompt, first_instruction

        string = self.lm.vocabulary.motion_string
        context = self._start_context(heads)
        prompts = [
            build_prompt(first_instruction("inbetween", motion_start=string(head), motion_end=string(tail)), refs)
            for head, tail, refs in zip(heads, tails, context)
        ]
        return self._sample_codes(prompts, frames, seed)

    def _start_context(self, starts: Sequence[list[int]]) -> list[list]:
        """References for prediction/in-between prompts, retrieved with each start (decoded) as the query, as the
        model was trained (ReMoGPTConfig.motion_task_context); empty lists otherwise."""
        if not self.config.motion_task_context or self.context.mode == "none" or not starts:
            return [[] for _ in starts]
        return self.context.for_motions(self.motion_tokenizer.decode([list(codes) for codes in starts]))

    def _encode_queries(self, motions: Sequence[np.ndarray], name: str) -> list[list[int]]:
        shortest, _ = self.frame_range()
        for motion in motions:
            array = np.asarray(motion)
            if array.ndim != 2 or array.shape[1] != self.config.feature_dim or len(array) < shortest:
                raise UserInputError(
                    f"a {name} must be features ({shortest} or more frames, {self.config.feature_dim} values each), "
                    f"not an array of shape {array.shape}."
                )
        return [list(map(int, codes)) for codes in self.motion_tokenizer.encode(list(motions))]

    def _sample_codes(self, prompts: list[str], frames: Frames, seed: int | None) -> list[list[int]]:
        """Motion codes sampled for every prompt; where a length is given, exactly that many frames' worth."""
        import torch

        lengths = list(frames) if isinstance(frames, (list, tuple, np.ndarray)) else [frames] * len(prompts)
        lengths = self._check_sampling(lengths, len(prompts), seed, "motions")
        if not prompts:
            return []
        if seed is not None:
            torch.manual_seed(seed)
        factor = self.motion_tokenizer.config.downsample_factor
        wanted = [max(1, int(n) // factor) if n else 1 for n in lengths]
        ids = self.lm.generate_ids(
            prompts, motion=True, temperature=self.sampling.temperature, top_k=self.sampling.top_k,
            top_p=self.sampling.top_p, min_motion_tokens=wanted,
            max_new_tokens=max(self.lm.config.max_motion_tokens, max(wanted) + 3),
        )  # fmt: skip
        codes = [self.lm.vocabulary.motion_codes(row) or [0] for row in ids]
        return [row[:want] if n else row for row, want, n in zip(codes, wanted, lengths)]

    def motion_from_codes(self, text: str, codes: list[int]) -> GeneratedMotion:
        """Decode one code list into a motion (features and joints)."""
        from .motion.features import features_to_joints

        features = self._decoded([codes])[0]
        return GeneratedMotion(text, codes, features, features_to_joints(features), [])

    def _check_request(self, texts, lengths, num_samples, seed) -> tuple[list[str], list]:
        """Every argument of a generation request checked before any work; returns (texts, one length per text)."""
        if isinstance(texts, str):  # a plain string would be read as one prompt per character
            raise UserInputError("texts must be a list of prompts; wrap a single prompt as [text].")
        texts = [self.check_prompt(t) for t in texts]
        if not _whole(num_samples, 1, MAX_CANDIDATES):
            raise UserInputError(f"num_samples must be a whole number from 1 to {MAX_CANDIDATES}, not {num_samples}.")
        return texts, self._check_sampling(lengths, len(texts), seed, "texts")

    def _check_sampling(self, lengths, count: int, seed, what: str) -> list:
        """The decoding settings, the seed and one requested length (or None) for each of `count` requests."""
        self.sampling.check()
        if seed is not None and not _whole(seed, 0, 2**63 - 1):
            raise UserInputError(f"the seed must be a whole number from 0 to 2^63 - 1, not {seed}.")
        lengths = list(lengths) if lengths is not None else [None] * count
        if len(lengths) != count:
            raise UserInputError(f"{len(lengths)} lengths for {count} {what}; give one length (or None) each.")
        shortest, longest = self.frame_range()
        for frames in lengths:
            if frames is not None and not _whole(frames, shortest, longest):
                raise UserInputError(f"a requested length must be a whole number of frames from {shortest} to {longest}, not {frames}.")
        return lengths

    # ---- durations: the one owner of what length a generated clip can have (CLI, server and library)
    def frame_range(self) -> tuple[int, int]:
        """Shortest and longest clip in frames: one motion token, up to the language model's motion budget."""
        factor = self.motion_tokenizer.config.downsample_factor
        return factor, (self.lm.config.max_motion_tokens - 3) * factor  # the budget also holds <som>, <eom>, </s>

    def seconds_range(self) -> tuple[float, float]:
        shortest, longest = self.frame_range()
        return shortest / self.config.fps, longest / self.config.fps

    def frames_for(self, seconds: float, name: str = "the length") -> int:
        """A requested duration in seconds -> frames, or one sentence naming the range this model can write."""
        import math

        low, high = self.seconds_range()
        if not (isinstance(seconds, (int, float)) and math.isfinite(seconds) and low <= seconds <= high):
            raise UserInputError(f"{name} must be between {low:g} and {high:g} seconds, not {seconds}.")
        shortest, longest = self.frame_range()
        return min(max(int(round(seconds * self.config.fps)), shortest), longest)

    def _reranked(self, count: int, what: str) -> int:
        """A candidate count (its range checked by SamplingSettings.check) the model can rerank: >1 needs the retriever."""
        if count > 1 and self.retriever is None:
            raise UserInputError(f"reranking {what} needs the model's retriever, and this model directory has none.")
        return count

    def _reference_frames(self, references) -> int | None:
        """How long the retrieved neighbours say the text takes: the length of the prompt's top-1 text->motion
        reference (else its first reference with a motion) in frames, within what this model can write; None
        without references."""
        top = _top_reference(references)
        if top is None:
            return None
        shortest, longest = self.frame_range()
        return min(max(len(top.codes) * self.motion_tokenizer.config.downsample_factor, shortest), longest)

    def _query_embeddings(self, queries: Sequence, modality: str) -> np.ndarray | None:
        """The retriever's embeddings of the queries (texts or motions), computed once for the context, the query
        prefix and the reranking; None when nothing reads them."""
        reranked = self.sampling.candidates > 1 if modality == "text" else self.sampling.caption_candidates > 1
        if self.retriever is None or not (self.lm.config.query_prefix or self.context.mode != "none" or reranked):
            return None
        embed = self.retriever.embed_texts if modality == "text" else self.retriever.embed_motions
        return embed(list(queries))

    def _prefix(self, embeddings: np.ndarray | None) -> np.ndarray | None:
        """The query embeddings for the language model, when it reads them (ReMoGPT's query prefix)."""
        if not self.lm.config.query_prefix:
            return None
        if embeddings is None:
            raise UserInputError("this model reads its retriever's query embeddings, and its directory has no retriever.")
        return embeddings

    def generate(self, texts: Sequence[str], lengths: Sequence[int] | None = None, num_samples: int = 1) -> list[np.ndarray]:
        """The evaluation interface: raw features per text, text-major. The model decides the length itself."""
        return [m.features for m in self.generate_motions(texts, None, num_samples)]

    # ---- motion to text
    def caption_motions(self, motions: Sequence[np.ndarray]) -> list[tuple[str, list]]:
        from .language.prompts import build_prompt, first_instruction

        if not motions:
            return []
        self.sampling.check()
        tokens = self.motion_tokenizer.encode(list(motions))
        motion_embeddings = self._query_embeddings(motions, "motion")
        references = self.context.for_motions(list(motions), embeddings=motion_embeddings)
        spans = [self.lm.vocabulary.motion_string(t) for t in tokens]
        prompts = [build_prompt(first_instruction("m2t", motion=span), refs) for span, refs in zip(spans, references)]
        candidates = self._reranked(self.sampling.caption_candidates, "caption candidates")
        beams = max(self.sampling.caption_beams, candidates)
        prefix = self._prefix(motion_embeddings)
        ids = []
        for part in _calls(len(prompts), beams, MAX_CAPTION_ROWS):  # beam search holds every beam's cache
            ids += self.lm.generate_ids(
                prompts[part], motion=False, do_sample=False, num_beams=beams, num_samples=candidates,
                query_embeddings=None if prefix is None else prefix[part],
            )  # fmt: skip
        texts = [self.lm.vocabulary.text(row) for row in ids]
        if candidates > 1:  # beams of one motion are consecutive rows, best first
            texts = [texts[i] for i in _best_of_groups(motion_embeddings, self.retriever.embed_texts(texts), candidates)]
        return list(zip(texts, references))


    def caption(self, motions: Sequence[np.ndarray]) -> list[str]:
        return [text for text, _ in self.caption_motions(motions)]

    # ---- the database and the tokenizer as services (the server and the CLI use these, never the parts)
    def use_database(self, directory: str | os.PathLike) -> None:
        """Retrieve the prompt's references from another database (`remogpt index build` with this model's retriever
        and motion tokenizer, over any dataset: the paper's Motion-X-as-database experiment). Checked, not trusted:
        its stored caption embeddings must be what this model's retriever computes, and its motion tokens must be
        codes of this model's tokenizer."""
        from .language.context import ContextRetriever
        from .retrieval.database import RetrievalDatabase

        if self.config.retrieval == "none" or self.retriever is None:
            raise UserInputError("this model was trained without retrieved context, so it has no use for a --database.")
        database = RetrievalDatabase.load(directory)
        if database.tokens is None:
            raise UserInputError(
                f"database '{directory}' holds no motion tokens; build it with `remogpt index build --tokenizer "
                "MODEL/motion_tokenizer`, the model's own tokenizer."
            )
        codebook = self.motion_tokenizer.config.codebook_size
        if any(code < 0 or code >= codebook for codes in database.tokens for code in codes):
            raise UserInputError(f"database '{directory}' holds motion codes outside this model's codebook of {codebook}.")
        probe = min(8, len(database.pair_captions))
        stored = database.text_embeddings[:probe]
        computed = self.retriever.embed_texts(list(database.pair_captions[:probe]))
        if stored.shape != computed.shape or not np.allclose(stored, computed, atol=1e-3):
            raise UserInputError(
                f"database '{directory}' was built with another retriever than this model's; build it with "
                "`remogpt index build --retriever MODEL/retriever --tokenizer MODEL/motion_tokenizer`."
            )
        from .io import portable

        self.database, self._scope = database, None
        self.database_source = portable(str(Path(directory).resolve()))
        self.context = ContextRetriever(self.retriever, database, self.lm.vocabulary, self.config.retrieval, self.config.k)

    @property
    def retrieval(self) -> str:
        """The retrieval setting prompts are built with ("none" without a database)."""
        return self.context.mode

    @property
    def database_size(self) -> int:
        return len(self.database) if self.database is not None else 0

    def can_search(self) -> bool:
        return self.database is not None and self.retriever is not None

    def search(self, texts: Sequence[str], k: int = 5) -> list[dict[str, list]]:
        """The top-k database pairs of every text: {"text->motion": [Reference, ...], "text->text": [...]}."""
        from .language.prompts import Reference

        if not self.can_search():
            raise UserInputError("this model has no retrieval database to search.")
        texts = [self._check_text(t) for t in texts]
        if not texts:
            return []
        found = self.database.search(self.retriever.embed_texts(texts), "text", k=k, targets=("motion", "text"))
        return [
            {kind: [Reference(h.caption, tuple(h.tokens or ()), h.kind, float(h.similarity), h.motion_id, h.name) for h in hits]
             for kind, hits in by_kind.items()}
            for by_kind in found
        ]  # fmt: skip

    def decode(self, codes: Sequence[Sequence[int]]) -> list[np.ndarray]:
        """Motion tokens -> raw features (T, D), batched; e.g. the motions of references or search hits."""
        if not codes:
            return []
        for row in codes:
            self.lm.vocabulary.check_codes(row)
        return self._decoded([list(row) for row in codes])

    def _decoded(self, codes: Sequence[list[int]]) -> list[np.ndarray]:
        """The tokenizer's decoding, then the foot clean-up when it is on: every motion this model hands out,
        reference rows included, goes through here, so tables compare like with like."""
        features = self.motion_tokenizer.decode(codes)
        if not self.sampling.plant_feet:
            return features
        from .motion.foot_contact import plant_feet

        return [plant_feet(f) for f in features]

    # ---- reference rows: what the model's own parts give without the language model (evaluation/interface.py)
    def reconstruct(self, motions: Sequence[np.ndarray]) -> list[np.ndarray]:
        """Raw features through the motion tokenizer and back: the best any output of this tokenizer can be."""
        return self._decoded(self.motion_tokenizer.encode(list(motions)))

    def retrieve_motions(self, texts: Sequence[str]) -> list[np.ndarray] | None:
        """The top-1 text->motion reference of every text, decoded from its tokens (None without a database)."""
        if self.database is None or self.database.tokens is None or not texts:
            return None
        hits = self.database.search(self.retriever.embed_texts(list(texts)), "text", k={"text->motion": 1}, targets=("motion",))
        return self._decoded([list(hit["text->motion"][0].tokens) for hit in hits])

    def retrieve_captions(self, motions: Sequence[np.ndarray]) -> list[str] | None:
        """The caption of the top-1 motion->text reference of every motion (None without a database)."""
        if self.database is None or not motions:
            return None
        hits = self.database.search(self.retriever.embed_motions(list(motions)), "motion", k={"motion->text": 1}, targets=("text",))
        return [hit["motion->text"][0].caption for hit in hits]

    # ---- honest notices: what the model cannot promise about a request (notices.py)
    def text_notices(self, text: str, references: Sequence = ()) -> list[str]:
        """Unknown words, a prompt longer than any training caption, a poorly matching best reference."""
        scope = self._prompt_scope()
        return (scope.notices(text) if scope else []) + self.context_notices(references)

    def context_notices(self, references: Sequence) -> list[str]:
        """A sentence when the prompt's best reference (of a text or a motion query) is a poor match."""
        from .notices import weak_match_notice

        notice = weak_match_notice(references, self.config.match_thresholds)
        return [notice] if notice else []

    def calibrate_matches(self, texts: Sequence[str], motions: Sequence[np.ndarray]) -> dict[str, float]:
        """Set the poor-match thresholds from held-out queries (saved with the model in remogpt.json)."""
        from .notices import calibrate_match_thresholds

        if self.context.mode == "none":
            return {}
        self.config.match_thresholds = calibrate_match_thresholds(self.context, texts, motions)
        return self.config.match_thresholds

    def _prompt_scope(self):
        """The words of the database's captions (what the model has read), computed once; None without one."""
        if self.database is None:
            return None
        if self._scope is None:
            from .notices import PromptScope

            self._scope = PromptScope.from_captions(self.database.pair_captions)
        return self._scope

    def check_prompt(self, text: str) -> str:
        """The prompt as the model reads it (whitespace collapsed), or one sentence why it cannot: not a string,
        not UTF-8, empty, or nothing but <unk> to the text tokenizer (emoji, another script), which would be
        generated from an empty description."""
        text = self._check_text(text)
        vocabulary = self.lm.vocabulary
        ids = vocabulary.tokenizer(text)["input_ids"]
        pieces = [i for i in ids if i != vocabulary.eos_id and vocabulary.tokenizer.convert_ids_to_tokens(i) != "▁"]
        if pieces and all(i == vocabulary.tokenizer.unk_token_id for i in pieces):
            raise UserInputError(
                f"the prompt '{text}' holds no word this model knows; it was trained on English captions."
            )
        return text

    @staticmethod
    def _check_text(text: str) -> str:
        if not isinstance(text, str):  # None, numbers: a caller's mistake that would become the prompt "None"
            raise UserInputError(f"a text prompt must be a string, not {type(text).__name__}.")
        try:
            text.encode("utf-8")
        except UnicodeEncodeError:  # lone surrogates: what a shell's undecodable bytes become in Python
            raise UserInputError("the text prompt holds bytes that are not valid UTF-8; pass plain text.") from None
        text = " ".join(text.split())
        if not text:
            raise UserInputError("the text prompt is empty; describe the motion, e.g. 'a person walks forward'.")
        return text


def _place(source: Path | None, target: Path, save) -> None:
    """Copy a component's directory to `target` (training leftovers excluded), or `save(target)` when it has none."""
    import shutil

    if source is None:
        save(target)
    elif Path(source).resolve() != target.resolve():
        if target.exists():
            shutil.rmtree(target)
        shutil.copytree(source, target, ignore=shutil.ignore_patterns("checkpoints", "*.ckpt", "metrics.jsonl", "stages"))


def load_evaluable(directory: str | os.PathLike, device: str = "cpu"):
    """What `--model DIR` names for evaluation: a ReMoGPT model directory, or an evaluation stand-in (its config.json)."""
    from .evaluation.standin import MODEL_TYPE as STANDIN_TYPE, StandInModel
    from .pretrained import CONFIG_NAME, read_json

    directory = Path(directory)
    if is_model_directory(directory):
        return ReMoGPT.from_pretrained(directory, device=device)
    if not (directory / CONFIG_NAME).is_file():
        raise UserInputError(f"--model '{directory}' has neither {MODEL_CONFIG_NAME} nor {CONFIG_NAME}; expected a saved model directory.")
    model_type = str(read_json(directory / CONFIG_NAME).get("model_type", ""))
    if model_type != STANDIN_TYPE:
        raise UserInputError(
            f"--model '{directory}' holds a '{model_type}' model, which cannot be evaluated "
            f"(expected a ReMoGPT model directory or a '{STANDIN_TYPE}')."
        )
    return StandInModel.from_directory(directory)


# the training summaries kept beside the model when it is exported (training leftovers such as runs/, stages/,
# checkpoints and the token cache stay behind)
REPORT_FILES = ("report.json", "report.md", "stages.json")


def export_model(source: str | os.PathLike, target: str | os.PathLike) -> Path:
    """Copy the inference part of a ReMoGPT model directory to `target` (replaced atomically as a whole)."""
    import shutil
    import tempfile

    source, target = Path(source), Path(target)
    if not is_model_directory(source):
        raise UserInputError(f"'{source}' is not a ReMoGPT model directory (no {MODEL_CONFIG_NAME}).")
    if target.resolve() == source.resolve() or source.resolve() in target.resolve().parents:
        raise UserInputError(f"the export target '{target}' must lie outside the model directory '{source}'.")
    # the target is replaced as a whole: only ever an earlier export (a model directory) or nothing
    if target.exists() and not (target.is_dir() and is_model_directory(target)):
        if not target.is_dir() or any(target.iterdir()):
            raise UserInputError(
                f"the export target '{target}' exists and is not a ReMoGPT model directory; name a new or empty folder."
            )
    here, resolved = Path.cwd().resolve(), target.resolve()
    if resolved == here or resolved in here.parents or resolved in source.resolve().parents:
        raise UserInputError(f"the export target '{target}' holds the working folder or the model; name a new folder.")
    target.parent.mkdir(parents=True, exist_ok=True)
    model = ReMoGPT.from_pretrained(source)
    staging = Path(tempfile.mkdtemp(prefix=f".{target.name}.", dir=target.parent))
    try:
        model.save_pretrained(staging)
        for name in REPORT_FILES:
            if (source / name).is_file():
                shutil.copy2(source / name, staging / name)
        if target.exists():
            shutil.rmtree(target)
        staging.rename(target)
    finally:
        if staging.exists():
            shutil.rmtree(staging)
    return target
