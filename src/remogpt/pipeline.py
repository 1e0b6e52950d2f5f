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

from .errors import UserInputError

BUNDLE_NAME = "remogpt.json"
MAX_CANDIDATES = 64  # motions sampled per requested motion when reranking
MAX_BEAMS = 16  # caption beam width


@dataclass
class BundleConfig:
    retrieval: str = "both"
    k: int = 1
    fps: float = 20.0
    feature_dim: int = 263
    training: dict = field(default_factory=dict)
    # Decoding defaults: motions sampled per requested motion (the one the retriever scores closest to the text
    # kept), and the guidance scale toward the retrieved context (language/model.py ContextGuidance; 0 = off).
    candidates: int = 1
    context_guidance: float = 0.0


@dataclass
class GeneratedMotion:
    text: str
    tokens: list[int]
    features: np.ndarray  # (T, D) raw features
    joints: np.ndarray  # (T, J, 3)
    context: list = field(default_factory=list)  # prompt references (caption, motion span)


@dataclass
class SamplingSettings:
    temperature: float = 1.0
    top_k: int | None = None
    top_p: float | None = None
    caption_beams: int = 1  # greedy by default; >1 = beam search for captions
    # >1: sample this many motions per requested motion and keep the one PL-TMR finds closest to the text
    # (reranking; the retriever is the model's own part, never the evaluator)
    candidates: int = 1
    # >0: classifier-free guidance of motion tokens toward the prompt's references (vs the prompt without them)
    context_guidance: float = 0.0

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
        if not number(self.context_guidance) or not 0 <= self.context_guidance <= 10:
            raise UserInputError(f"the context guidance must be between 0 and 10, not {self.context_guidance}.")
        if not _whole(self.candidates, 1, MAX_CANDIDATES):
            raise UserInputError(f"the number of candidates must be between 1 and {MAX_CANDIDATES}, not {self.candidates}.")


def _whole(value, low: int, high: int) -> bool:
    """An integer (numpy's too, never a bool) within [low, high]."""
    return isinstance(value, (int, np.integer)) and not isinstance(value, bool) and low <= value <= high


class ReMoGPT:
    def __init__(self, language_model, motion_tokenizer, retriever=None, database=None, bundle: BundleConfig | None = None):
        from .language.context import ContextRetriever

        self.lm, self.motion_tokenizer = language_model, motion_tokenizer
        self.retriever, self.database = retriever, database
        self.bundle = bundle or BundleConfig(retrieval="none")
        mode = self.bundle.retrieval if database is not None else "none"
        self.context = ContextRetriever(retriever, database, language_model.vocabulary, mode, self.bundle.k)
        self.sampling = SamplingSettings(
            candidates=self.bundle.candidates if retriever is not None else 1, context_guidance=self.bundle.context_guidance
        )

    @classmethod
    def from_pretrained(cls, directory: str | os.PathLike, device: str = "cpu") -> "ReMoGPT":
        from .language.model import MotionLanguageModel
        from .pretrained import read_json
        from .retrieval.database import RetrievalDatabase
        from .retrieval.model import PLTMR
        from .tokenizer.model import MotionTokenizer

        directory = Path(directory)
        if not (directory / BUNDLE_NAME).is_file():
            raise UserInputError(f"'{directory}' is not a ReMoGPT model directory (no {BUNDLE_NAME}); train one with `remogpt train lm`.")
        values = read_json(directory / BUNDLE_NAME, name="model bundle")
        bundle = BundleConfig(**{k: v for k, v in values.items() if k in BundleConfig.__dataclass_fields__})
        lm = MotionLanguageModel.from_pretrained(directory, map_location=device)
        tokenizer = MotionTokenizer.from_pretrained(directory / "motion_tokenizer", map_location=device)
        retriever = database = None
        if bundle.retrieval != "none" or bundle.candidates > 1:  # the retriever also reranks candidates
            retriever = PLTMR.from_pretrained(directory / "retriever", map_location=device)
        if bundle.retrieval != "none":
            database = RetrievalDatabase.load(directory / "database")
        return cls(lm, tokenizer, retriever, database, bundle)

    from_directory = from_pretrained  # the evaluation loader's name

    # ---- text to motion
    def generate_motions(
        self,
        texts: Sequence[str],
        lengths: Sequence[int | None] | None = None,
        num_samples: int = 1,
        seed: int | None = None,
    ) -> list[GeneratedMotion]:
        """Motions for every text (num_samples each, text-major). `lengths` in frames are optional requests."""
        import torch

        from .language.prompts import build_prompt, first_instruction
        from .motion.features import features_to_joints

        texts, lengths = self._check_request(texts, lengths, num_samples, seed)
        if not texts:
            return []
        if seed is not None:
            torch.manual_seed(seed)
        references = self.context.for_texts(texts)
        prompts, plain_prompts = [], []
        for text, frames, refs in zip(texts, lengths, references):
            if frames:
                instruction = first_instruction("t2m_frames", caption=text, frames=str(int(frames)))
            else:
                instruction = first_instruction("t2m", caption=text)
            prompts.append(build_prompt(instruction, refs))
            plain_prompts.append(build_prompt(instruction))
        guided = self.sampling.context_guidance != 0.0 and any(references)
        factor = self.motion_tokenizer.config.downsample_factor
        # a requested length: at least that many codes before <eom> (then cut to it), room for them in the budget
        wanted = [max(1, int(frames) // factor) if frames else 1 for frames in lengths]
        candidates = self._candidates()
        ids = self.lm.generate_ids(
            prompts,
            motion=True,
            num_samples=num_samples * candidates,
            temperature=self.sampling.temperature,
            top_k=self.sampling.top_k,
            top_p=self.sampling.top_p,
            min_motion_tokens=wanted,
            max_new_tokens=max(self.lm.config.max_motion_tokens, max(wanted) + 3),
            guidance_prompts=plain_prompts if guided else None,
            guidance_scale=self.sampling.context_guidance,
        )
        codes = [self.lm.vocabulary.motion_codes(row) or [0] for row in ids]
        for i, frames in enumerate(np.repeat(np.array(lengths, dtype=object), num_samples * candidates)):
            if frames:
                codes[i] = codes[i][: max(1, int(frames) // factor)]
        features = self.motion_tokenizer.decode(codes)
        if candidates > 1:
            keep = self._best_candidates(texts, features, num_samples, candidates)
            codes, features = [codes[i] for i in keep], [features[i] for i in keep]
        results = []
        for i, (row_codes, row_features) in enumerate(zip(codes, features)):
            text_index = i // num_samples
            results.append(
                GeneratedMotion(texts[text_index], row_codes, row_features, features_to_joints(row_features), references[text_index])
            )
        return results

    def _check_request(self, texts, lengths, num_samples, seed) -> tuple[list[str], list]:
        """Every argument of a generation request checked before any work; returns (texts, one length per text)."""
        if isinstance(texts, str):  # a plain string would be read as one prompt per character
            raise UserInputError("texts must be a list of prompts; wrap a single prompt as [text].")
        texts = [self._check_text(t) for t in texts]
        self.sampling.check()
        if not _whole(num_samples, 1, MAX_CANDIDATES):
            raise UserInputError(f"num_samples must be a whole number from 1 to {MAX_CANDIDATES}, not {num_samples}.")
        if seed is not None and not _whole(seed, 0, 2**63 - 1):
            raise UserInputError(f"the seed must be a whole number from 0 to 2^63 - 1, not {seed}.")
        lengths = list(lengths) if lengths is not None else [None] * len(texts)
        if len(lengths) != len(texts):
            raise UserInputError(f"{len(lengths)} lengths for {len(texts)} texts; give one length (or None) per text.")
        longest = (self.lm.config.max_motion_tokens - 2) * self.motion_tokenizer.config.downsample_factor  # <som>, <eom>
        for frames in lengths:
            if frames is not None and not _whole(frames, 1, longest):
                raise UserInputError(f"a requested length must be a whole number of frames from 1 to {longest}, not {frames}.")
        return texts, lengths

    def _candidates(self) -> int:
        count = self.sampling.candidates  # its range is checked by SamplingSettings.check
        if count > 1 and self.retriever is None:
            raise UserInputError("reranking candidates needs the model's retriever, and this model directory has none.")
        return count

    def _best_candidates(self, texts: Sequence[str], features: list[np.ndarray], num_samples: int, candidates: int) -> list[int]:
        """Index of the candidate closest to its text (retriever cosine) in each group of `candidates` rows."""
        text_embeddings = self.retriever.embed_texts(list(texts))
        motion_embeddings = self.retriever.embed_motions(features).reshape(len(texts), num_samples, candidates, -1)
        best = np.einsum("td,tscd->tsc", text_embeddings, motion_embeddings).argmax(-1)
        return [(t * num_samples + s) * candidates + int(best[t, s]) for t in range(len(texts)) for s in range(num_samples)]

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
        references = self.context.for_motions(list(motions))
        spans = [self.lm.vocabulary.motion_string(t) for t in tokens]
        prompts = [build_prompt(first_instruction("m2t", motion=span), refs) for span, refs in zip(spans, references)]
        beams = self.sampling.caption_beams
        ids = self.lm.generate_ids(prompts, motion=False, do_sample=False, num_beams=beams)
        return [(self.lm.vocabulary.text(row), refs) for row, refs in zip(ids, references)]

    def caption(self, motions: Sequence[np.ndarray]) -> list[str]:
        return [text for text, _ in self.caption_motions(motions)]

    # ---- reference rows: what the model's own parts give without the language model (evaluation/interface.py)
    def reconstruct(self, motions: Sequence[np.ndarray]) -> list[np.ndarray]:
        """Raw features through the motion tokenizer and back: the best any output of this tokenizer can be."""
        return self.motion_tokenizer.decode(self.motion_tokenizer.encode(list(motions)))

    def retrieve_motions(self, texts: Sequence[str]) -> list[np.ndarray] | None:
        """The top-1 text->motion reference of every text, decoded from its tokens (None without a database)."""
        if self.database is None or self.database.tokens is None or not texts:
            return None
        hits = self.database.search(self.retriever.embed_texts(list(texts)), "text", k={"text->motion": 1}, targets=("motion",))
        return self.motion_tokenizer.decode([list(hit["text->motion"][0].tokens) for hit in hits])

    def retrieve_captions(self, motions: Sequence[np.ndarray]) -> list[str] | None:
        """The caption of the top-1 motion->text reference of every motion (None without a database)."""
        if self.database is None or not motions:
            return None
        hits = self.database.search(self.retriever.embed_motions(list(motions)), "motion", k={"motion->text": 1}, targets=("text",))
        return [hit["motion->text"][0].caption for hit in hits]

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


# What inference needs from a model directory; training leftovers (runs/, stages/, checkpoints, the token cache)
# stay behind when a model is copied for sharing or shipping.
INFERENCE_FILES = (BUNDLE_NAME, "config.json", "model.safetensors", "tokenizer", "motion_tokenizer", "retriever",
                   "database", "evaluator", "report.json", "report.md", "stages.json")  # fmt: skip


def export_model(source: str | os.PathLike, target: str | os.PathLike) -> Path:
    """Copy the inference part of a ReMoGPT model directory to `target` (replaced atomically as a whole)."""
    import shutil
    import tempfile

    source, target = Path(source), Path(target)
    if not (source / BUNDLE_NAME).is_file():
        raise UserInputError(f"'{source}' is not a ReMoGPT model directory (no {BUNDLE_NAME}).")
    if target.resolve() == source.resolve() or source.resolve() in target.resolve().parents:
        raise UserInputError(f"the export target '{target}' must lie outside the model directory '{source}'.")
    # the target is replaced as a whole: only ever an earlier export (a model directory) or nothing
    if target.exists() and not (target.is_dir() and (target / BUNDLE_NAME).is_file()):
        if not target.is_dir() or any(target.iterdir()):
            raise UserInputError(
                f"the export target '{target}' exists and is not a ReMoGPT model directory; name a new or empty folder."
            )
    here, resolved = Path.cwd().resolve(), target.resolve()
    if resolved == here or resolved in here.parents or resolved in source.resolve().parents:
        raise UserInputError(f"the export target '{target}' holds the working folder or the model; name a new folder.")
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{target.name}.", dir=target.parent))
    try:
        for name in INFERENCE_FILES:
            path = source / name
            if path.is_dir():
                shutil.copytree(path, staging / name, ignore=shutil.ignore_patterns("checkpoints", "*.ckpt", "metrics.jsonl"))
            elif path.is_file():
                shutil.copy2(path, staging / name)
        if target.exists():
            shutil.rmtree(target)
        staging.rename(target)
    finally:
        if staging.exists():
            shutil.rmtree(staging)
    return target

