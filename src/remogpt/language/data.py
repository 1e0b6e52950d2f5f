"""Instruction examples for the motion-language model: tasks mixed and shuffled, prompts with optional context.

Each training item is one motion (its tokens, pre-computed once with the frozen VQ-VAE) with its captions. Every
access draws a task (text-to-motion, with or without a requested length; motion-to-text; motion prediction;
motion in-between), a caption and an instruction template, so epochs see different prompts. References for the
Context block are looked up once before training (retrieval is frozen) and stored per (item, caption) for
text queries and per item for motion queries.

`paraphrase_weight` (stage 2): an extra caption -> other-caption-of-the-same-clip task, off by default.

`query_mask_rate` (stage 2): in motion-to-text examples, each query motion token is replaced by <motion_mask> with a
probability drawn per example from [0, query_mask_rate], to make the references worth reading. Inference always sees
the whole query. Both options are experiments, off by default: measured in bench/results/lm_caption_context.md.

`self_reference_rate` (stage 2): in that share of text-to-motion and motion-to-text examples the first reference
is the clip itself (another of its captions, its codes with up to `self_reference_noise` of them made random)
instead of a neighbour. Retrieval always excludes the query's own clip, so without this the model never sees a
reference that answers the query and learns to lean on the text alone; with it, it learns to copy what matches
and to edit what does not (the same reason retrieval-augmented language models are trained with the gold passage
in context some of the time).

`caption_dropout` (stage 2): in that share of text-to-motion examples the prompt keeps its instruction (and its
length) but loses the caption and the Context block: the unconditional prompt that text guidance contrasts with
(pipeline.SamplingSettings.text_guidance, classifier-free guidance as in MoMask and Parti).

Query prefix (language/model.py `query_prefix`): every example also names its query, ("text", item, caption) or
("motion", item), or None for prediction and in-betweening; `collate` turns the names into the items' retriever
embeddings (zeros where there is none), which the model reads in front of the prompt.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from typing import NamedTuple, Sequence

import numpy as np
from torch.utils.data import Dataset

from .prompts import Reference, build_prompt, sample_instruction, unconditional_instruction
from .vocabulary import MotionVocabulary

# How often each task is drawn during training (MotionGPT mixes generation and captioning with a little of the
# completion tasks).
DEFAULT_TASK_WEIGHTS = {"t2m": 0.3, "t2m_seconds": 0.1, "t2m_frames": 0.05, "m2t": 0.4, "prediction": 0.075, "inbetween": 0.075}


@dataclass
class MotionTextItem:
    name: str
    motion_id: str
    tokens: list[int]
    captions: list[str]
    text_context: list[list[Reference]] = field(default_factory=list)  # per caption
    motion_context: list[Reference] = field(default_factory=list)
    # references retrieved with the motion's start alone as the query (START_QUERY_SHARE of its tokens): what a
    # prediction or in-between prompt may hold, since at inference only the start (and end) are known
    start_context: list[Reference] = field(default_factory=list)
    # the frozen retriever's embeddings of each caption and of the motion, for a model with a query prefix
    caption_embeddings: np.ndarray | None = None
    motion_embedding: np.ndarray | None = None
    # the tasks (with weights) this item is drawn for, instead of the dataset's: a self-training target
    # (language/self_targets.py) is a text-to-motion answer only
    tasks: dict[str, float] | None = None
    # the same clip tokenized from later start frames (train lm --frame-offsets); an example draws one of
    # tokens + token_variants as its motion
    token_variants: list[list[int]] = field(default_factory=list)


class Example(NamedTuple):
    prompt: str
    target: str
    query: tuple | None = None  # ("text", item name, caption index), ("motion", item name) or None


START_QUERY_SHARE = 1 / 3  # the part of a training motion used as the query of its prediction/in-between context


def frames_of(tokens: Sequence[int], downsample_factor: int) -> int:
    return len(tokens) * downsample_factor


class InstructionDataset(Dataset):
    """(prompt, target) pairs drawn per access; deterministic for a given seed, epoch and index."""

    def __init__(
        self,
        items: Sequence[MotionTextItem],
        vocabulary: MotionVocabulary,
        *,
        fps: float,
        downsample_factor: int,
        task_weights: dict[str, float] | None = None,
        query_mask_rate: float = 0.0,
        references: tuple[int, int] | None = None,
        sample_references: bool = False,
        self_reference_rate: float = 0.0,
        self_reference_noise: float = 0.0,
        motion_task_context: bool = False,
        caption_dropout: float = 0.0,
        seed: int = 0,
    ):
        self.items = list(items)
        # (k, pool): each item's context lists hold `pool` references per kind; a prompt uses k per kind, the top k,
        # or (sample_references, training) k drawn at random from the pool, so a clip is not always paired with
        # the same neighbour
        self.references, self.sample_references = references, sample_references
        self.vocabulary = vocabulary
        self.fps, self.downsample_factor = fps, downsample_factor
        weights = task_weights or DEFAULT_TASK_WEIGHTS
        self.tasks, self.weights = list(weights), list(weights.values())
        self.query_mask_rate = query_mask_rate
        self.self_reference_rate, self.self_reference_noise = self_reference_rate, self_reference_noise
        self.motion_task_context = motion_task_context  # prediction/in-between prompts hold their start_context
        self.caption_dropout = caption_dropout
        self.seed, self.epoch = seed, 0

    def set_epoch(self, epoch: int) -> None:
        self.epoch = epoch

    def __len__(self) -> int:
        return len(self.items)

    def __getitem__(self, item: int | tuple[int, int]) -> Example:
        """An index (this dataset's epoch), or (index, epoch) from a step-based sampler (training.StepBatches)."""
        index, epoch = item if isinstance(item, tuple) else (item, self.epoch)
        rng = random.Random(hash((self.seed, epoch, index)))
        item = self.items[index]
        tasks, weights = (list(item.tasks), list(item.tasks.values())) if item.tasks else (self.tasks, self.weights)
        task = rng.choices(tasks, weights)[0]
        if (task in ("prediction", "inbetween") and len(item.tokens) < 4) or (task == "paraphrase" and len(item.captions) < 2):
            task = "t2m"
        return self.example(item, task, rng)

    def _chosen(self, references: list[Reference], rng: random.Random) -> list[Reference]:
        if self.references is None or not references:
            return references
        k, pool = self.references
        if pool <= k or len(references) % pool:
            return references[: len(references) if pool <= k else k]
        groups = [references[i : i + pool] for i in range(0, len(references), pool)]
        if not self.sample_references:
            return [ref for group in groups for ref in group[:k]]
        return [group[i] for group in groups for i in sorted(rng.sample(range(len(group)), k))]

    def _with_self_reference(self, context: list[Reference], item: MotionTextItem, caption: int, rng: random.Random) -> list[Reference]:
        """The context with its first reference swapped for the clip itself (rate `self_reference_rate`); the
        reference's caption is another caption of the clip than `caption` when it has one."""
        if not context or not self.self_reference_rate or rng.random() >= self.self_reference_rate:  # rate 0 draws nothing
            return context
        others = [i for i in range(len(item.captions)) if i != caption] or [caption]
        noise = rng.uniform(0.0, self.self_reference_noise)
        size = self.vocabulary.codebook_size
        codes = tuple(rng.randrange(size) if rng.random() < noise else int(c) for c in item.tokens)
        own = Reference(item.captions[rng.choice(others)], codes, context[0].kind, 1.0, item.motion_id, item.name)
        return [own, *context[1:]]

    def example_length(self, index: int, epoch: int | None = None) -> int:
        """Tokens of the example drawn at `index` in `epoch` (default: this one), prompt + target, for bucketing."""
        prompt, target, _ = self[(index, self.epoch if epoch is None else epoch)]
        encoded = self.vocabulary.tokenizer([prompt, target])["input_ids"]
        return len(encoded[0]) + len(encoded[1])

    def example(self, item: MotionTextItem, task: str, rng: random.Random) -> Example:
        motion = self.vocabulary.motion_string
        tokens = rng.choice([item.tokens, *item.token_variants]) if item.token_variants else item.tokens
        if task.startswith("t2m"):
            which = rng.randrange(len(item.captions))
            frames = frames_of(tokens, self.downsample_factor)
            instruction = sample_instruction(
                task, rng, caption=item.captions[which], seconds=f"{frames / self.fps:.1f}", frames=str(frames)
            )
            if self.caption_dropout and rng.random() < self.caption_dropout:  # rate 0 draws nothing
                instruction = unconditional_instruction(task, rng, frames=frames, fps=self.fps)
                return Example(build_prompt(instruction), motion(tokens), None)
            context = self._chosen(item.text_context[which], rng) if item.text_context else []
            prompt = build_prompt(instruction, self._with_self_reference(context, item, which, rng))
            return Example(prompt, motion(tokens), ("text", item.name, which))
        if task == "m2t":
            masked: set[int] = set()
            if self.query_mask_rate > 0:
                rate = rng.uniform(0.0, self.query_mask_rate)
                masked = {i for i in range(len(tokens)) if rng.random() < rate}
            instruction = sample_instruction(task, rng, motion=motion(tokens, masked))
            target = rng.randrange(len(item.captions))
            context = self._with_self_reference(self._chosen(item.motion_context, rng), item, target, rng)
            return Example(build_prompt(instruction, context), item.captions[target], ("motion", item.name))
        if task == "paraphrase":  # text in, caption out: practice for reading the Context block's captions
            source, target = rng.sample(range(len(item.captions)), 2)
            prompt = build_prompt(sample_instruction(task, rng, caption=item.captions[source]))
            return Example(prompt, item.captions[target], ("text", item.name, source))
        start_context = self._chosen(item.start_context, rng) if self.motion_task_context else []
        if task == "prediction":
            cut = rng.randint(max(1, len(tokens) // 4), max(1, len(tokens) // 2))
            instruction = sample_instruction(task, rng, motion_start=motion(tokens[:cut]))
            return Example(build_prompt(instruction, start_context), motion(tokens[cut:]))
        if task == "inbetween":
            edge = max(1, len(tokens) // 4)
            instruction = sample_instruction(task, rng, motion_start=motion(tokens[:edge]), motion_end=motion(tokens[-edge:]))
            return Example(build_prompt(instruction, start_context), motion(tokens[edge:-edge]))
        raise ValueError(f"unknown task {task!r}")


class LengthBucketSampler:
    """Batches of examples of similar token length, so little compute goes to padding.

    Each epoch shuffles the items, cuts them into pools of `pool_batches` batches, sorts each pool by the length
    of the example the dataset draws for that epoch (prompt + target tokens) and cuts it into batches, then
    shuffles the batches. `epoch_batches(epoch)` is one epoch's list (for training.StepBatches); iterating the
    sampler gives the dataset's current epoch.
    """

    def __init__(self, dataset: "InstructionDataset", batch_size: int, *, pool_batches: int = 50, drop_last: bool = False, seed: int = 0):
        self.dataset, self.batch_size, self.pool_batches = dataset, batch_size, pool_batches
        self.drop_last, self.seed = drop_last, seed

    def __len__(self) -> int:
        n = len(self.dataset)
        return n // self.batch_size if self.drop_last else -(-n // self.batch_size)

    def epoch_batches(self, epoch: int) -> list[list[int]]:
        rng = random.Random(hash((self.seed, epoch, "buckets")))
        order = list(range(len(self.dataset)))
        rng.shuffle(order)
        pool_size = self.batch_size * self.pool_batches
        batches = []
        for start in range(0, len(order), pool_size):
            pool = sorted(order[start : start + pool_size], key=lambda i: self.dataset.example_length(i, epoch))
            batches += [pool[i : i + self.batch_size] for i in range(0, len(pool), self.batch_size)]
        if self.drop_last:
            batches = [b for b in batches if len(b) == self.batch_size]
        rng.shuffle(batches)
        return batches

    def __iter__(self):
        return iter(self.epoch_batches(self.dataset.epoch))


def collate_examples(batch: list[Example]) -> dict[str, list[str]]:
    prompts, targets, _ = zip(*batch)
    return {"prompts": list(prompts), "targets": list(targets)}


class QueryCollate:
    """Batches with the queries' retriever embeddings (`query_embeddings`, zeros for examples without a query)."""

    def __init__(self, items: Sequence[MotionTextItem]):
        self.by_name = {item.name: item for item in items}
        first = next(iter(self.by_name.values()))
        self.dim = len(first.motion_embedding)

    def embedding(self, query: tuple | None) -> np.ndarray:
        if query is None:
            return np.zeros(self.dim, dtype=np.float32)
        item = self.by_name[query[1]]
        return item.caption_embeddings[query[2]] if query[0] == "text" else item.motion_embedding

    def __call__(self, batch: list[Example]) -> dict:
        import torch

        embeddings = torch.from_numpy(np.stack([self.embedding(example.query) for example in batch]).astype(np.float32))
        return {**collate_examples(batch), "query_embeddings": embeddings}
