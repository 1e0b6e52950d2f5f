"""Training the motion-language model in the paper's order.

Stage 1, motion-language pretraining: the tasks mixed, no context. Stage 2, instruction tuning: the same tasks with
retrieved context (`--retrieval`). The motion tokenizer and the retriever are frozen: motion tokens and references
are computed once before training. Stage 1 does not depend on the retrieval setting, so runs that compare settings
can share it (`pretrained_stage`), which keeps their budgets identical.

    out/
      config.json, model.safetensors, tokenizer/    the language model
      remogpt.json, motion_tokenizer/ ...           written by the caller: ReMoGPT.from_training(parts).save_pretrained
      stages/pretrain/ stages/instruct/             run directories (config, metrics.jsonl, checkpoints)
      motion_tokens.json                            the frozen tokenizer's tokens per training/validation sample
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from ..errors import UserInputError

GRADIENT_CLIP = 1.0  # max global gradient norm

PRESETS = {
    "tiny": dict(model="tiny", batch_size=8, learning_rate=1e-3, warmup_steps=5, pretrain_steps=10, max_steps=20, val_every=10, text_vocab_size=500),
    # chosen from measured runs (bench/results/lm_recipe.md): bf16 where the hardware has it (training.AUTO_PRECISION),
    # longer stage 2, exposure-bias and memorisation remedies, 8 reranked candidates per generated motion
    "small": dict(model="small", batch_size=16, learning_rate=2e-3, warmup_steps=100, pretrain_steps=2000, max_steps=5000, val_every=500, text_vocab_size=1500,
                  precision="auto", motion_corruption=0.5, reference_pool=3, candidates=8, caption_candidates=8),
    "medium": dict(model="medium", batch_size=16, learning_rate=1e-3, warmup_steps=200, pretrain_steps=1000, max_steps=3000, val_every=500, text_vocab_size=1500, precision="auto"),
    "paper": dict(model="base", batch_size=16, learning_rate=1e-4, warmup_steps=1000, pretrain_steps=100_000, max_steps=100_000, val_every=2000, text_vocab_size=8000, precision="auto"),
}


@dataclass
class LanguageTrainConfig:
    data: str
    tokenizer: str
    index: str
    preset: str = "small"
    model: str = "small"
    retrieval: str = "both"
    k: int = 1
    batch_size: int = 32
    learning_rate: float = 1e-3
    weight_decay: float = 0.01
    warmup_steps: int = 200
    pretrain_steps: int = 2000  # stage 1, no context
    max_steps: int = 3000  # stage 2, with context
    paraphrase_weight: float = 0.0  # stage 2: weight of the caption-paraphrase task (language/data.py)
    task_weights: str = ""  # stage 2: task weights over the defaults, "t2m=0.1,t2m_frames=0.35" (language/data.py)
    query_mask_rate: float = 0.0  # stage 2: up to this fraction of a motion-to-text query's tokens masked (language/data.py)
    val_every: int = 250
    text_vocab_size: int = 2000
    t5: str | None = None  # a local pretrained T5 directory instead of a preset
    pretrained_stage: str | None = None  # reuse stage 1 from another run directory
    seed: int = 0
    precision: str | None = None  # Lightning precision ("bf16-mixed", "32", ...) or "auto": bf16 autocast where native (training.resolved_precision)
    bucket_by_length: bool = True  # batches of similar length (language/data.py LengthBucketSampler): less padding
    motion_corruption: float = 0.0  # up to this share of decoder-input motion codes made random (model.loss)
    reference_pool: int = 1  # training draws each prompt's k references per kind from the top `reference_pool`
    self_reference_rate: float = 0.0  # stage 2: share of t2m/m2t prompts whose first reference is the clip itself (language/data.py)
    self_reference_noise: float = 0.0  # stage 2: up to this share of that reference's codes made random
    caption_dropout: float = 0.0  # stage 2: share of t2m prompts with neither caption nor context (text guidance)
    self_targets: str | None = None  # stage 2: best-of-N self-training targets (language/self_targets.py) beside the truth
    self_target_margin: float | None = None  # keep only self targets scored this much above their top-1 reference
    copy_head: bool = False  # stage 2: a copy path from the prompt (language/copy.py), freshly initialised
    copy_mixture: str = "gate"  # how the copy path mixes with generating: "gate" or "joint" (CopyHead)
    motion_task_context: bool = False  # stage 2: prediction/in-between prompts hold references retrieved with the start
    query_prefix: int = 0  # stage 2: the query's retriever embedding as this many prefix vectors (language/model.py); 0 = off
    # stage 2: each training clip is also tokenized starting 1 .. N-1 frames later (the random crop start of the
    # HumanML3D loaders), and every example draws one of its N token sequences: N times the motion targets from the
    # same clips, against memorising the 3 200 built-in ones. 1 = off; the tokenizer's downsampling gives every phase
    frame_offsets: int = 1
    candidates: int = 1  # decoding default written into the model's remogpt.json (pipeline.SamplingSettings)
    caption_candidates: int = 1  # decoding default too: caption beams reranked by the retriever
    text_guidance: float = 0.0  # decoding default too: needs caption_dropout > 0 in training
    snapshot_every: int = 0  # also save the model every N steps under <stage>/snapshots/ (learning curves); 0 = off
    accelerator: str = "auto"  # where it trains (training.HARDWARE_FIELDS)
    devices: int | str = "auto"
    num_nodes: int = 1


PRESET_ALIASES = {"base": "paper"}  # the paper preset's earlier name (run configs written before keep resuming)


def make_config(preset: str = "small", *, data, tokenizer, index, **overrides) -> LanguageTrainConfig:
    """A resolved config: the preset, the dataset and frozen components (paths), then the overrides (None ignored)."""
    preset = PRESET_ALIASES.get(preset, preset)
    if preset not in PRESETS:
        raise UserInputError(f"unknown preset '{preset}', expected one of {', '.join(PRESETS)}.")
    values = {**PRESETS[preset], **{k: v for k, v in overrides.items() if v is not None}}
    return LanguageTrainConfig(data=str(data), tokenizer=str(tokenizer), index=str(index), preset=preset, **values)


def _module_class():
    import lightning
    import torch

    class LanguageModelModule(lightning.LightningModule):
        """AdamW with linear warm-up and cosine decay over the T5 loss on (prompt, target) pairs."""

        def __init__(self, model, config: LanguageTrainConfig, total_steps: int):
            super().__init__()
            self.model, self.config, self.total_steps = model, config, total_steps

        def training_step(self, batch, _):
            loss = self.model.loss(
                batch["prompts"], batch["targets"], corruption=self.config.motion_corruption,
                query_embeddings=batch.get("query_embeddings"),
            )  # fmt: skip
            self.log("train/loss", loss, prog_bar=True, batch_size=len(batch["prompts"]), sync_dist=True)
            return loss

        def validation_step(self, batch, _):
            loss = self.model.loss(batch["prompts"], batch["targets"], query_embeddings=batch.get("query_embeddings"))
            self.log("val/loss", loss, prog_bar=True, batch_size=len(batch["prompts"]))

        def on_before_optimizer_step(self, optimizer):
            # clipped here, not by the Trainer: Lightning's mixed-precision plugin refuses to clip for fused optimizers
            torch.nn.utils.clip_grad_norm_(self.parameters(), GRADIENT_CLIP)

        def on_train_batch_start(self, batch, batch_idx):
            from ..training import seed_step

            seed_step(self.config.seed, self.global_step)  # exact resume: per-step randomness from (seed, step)


        def configure_optimizers(self):
            import math

            # the fused kernel (one pass over all parameters) runs on CPU and CUDA in torch >= 2.4
            optimizer = torch.optim.AdamW(
                self.parameters(), lr=self.config.learning_rate, weight_decay=self.config.weight_decay, fused=True
            )
            warmup, total = self.config.warmup_steps, max(self.total_steps, 1)

            def factor(step: int) -> float:
                if step < warmup:
                    return (step + 1) / warmup
                progress = min(1.0, (step - warmup) / max(1, total - warmup))
                return 0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * progress))

            scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, factor)
            return {"optimizer": optimizer, "lr_scheduler": {"scheduler": scheduler, "interval": "step"}}

    return LanguageModelModule


def _snapshot_callback(every: int, directory: Path):
    """Saves the bare model every `every` optimizer steps, for learning curves (evaluated afterwards)."""
    import lightning

    class Snapshots(lightning.Callback):
        def on_train_batch_end(self, trainer, module, *_):
            step = trainer.global_step
            if step % every == 0 and trainer.is_global_zero and not (directory / f"step{step:06d}").exists():
                module.model.save_pretrained(directory / f"step{step:06d}")

    return Snapshots()


def motion_tokens_for(samples, motion_tokenizer, cache_path: Path, offset: int = 0) -> dict[str, list[int]]:
    """Tokens of every sample with the frozen tokenizer (from frame `offset` on), cached in the run directory."""
    cached = json.loads(cache_path.read_text()) if cache_path.is_file() else {}
    def key(name: str) -> str:  # offset 0 keeps the plain names of caches written before offsets existed
        return f"{name}@{offset}" if offset else name

    missing = [s for s in samples if key(s.name) not in cached]
    if missing:
        for sample, tokens in zip(missing, motion_tokenizer.encode([s.features[offset:] for s in missing])):
            cached[key(sample.name)] = [int(t) for t in tokens]
        from ..io import save_json

        save_json(cache_path, cached)
    return {s.name: cached[key(s.name)] for s in samples}


def build_items(samples, tokens: dict[str, list[int]], context=None, start_context_factor: int = 0, retriever=None):
    """MotionTextItems, with references looked up in one batched pass per query type when `context` is given
    (`start_context_factor`, the tokenizer's frames per token: also with each motion's start alone as the query,
    for prediction and in-between prompts), and with the queries' embeddings when `retriever` is given (a model
    with a query prefix)."""
    import numpy as np

    from ..retrieval.database import Exclude
    from .data import START_QUERY_SHARE, MotionTextItem

    items = [MotionTextItem(s.name, s.motion_id, tokens[s.name], [c.text for c in s.captions]) for s in samples if tokens[s.name]]
    by_name = {s.name: s for s in samples}
    texts = [(i, caption) for i, item in enumerate(items) for caption in item.captions]
    text_embeddings = motion_embeddings = None
    if retriever is not None and items:
        text_embeddings = retriever.embed_texts([c for _, c in texts])
        motion_embeddings = retriever.embed_motions([by_name[item.name].features for item in items])
        ends = np.cumsum([len(item.captions) for item in items])
        for item, end, motion_embedding in zip(items, ends, motion_embeddings):
            item.caption_embeddings, item.motion_embedding = text_embeddings[end - len(item.captions) : end], motion_embedding
    if context is None or context.mode == "none":
        return items
    text_refs = context.for_texts(
        [c for _, c in texts], exclude=[Exclude(items[i].motion_id, c) for i, c in texts], embeddings=text_embeddings
    )
    for item in items:
        item.text_context = []
    for (i, _), refs in zip(texts, text_refs):
        items[i].text_context.append(refs)
    motion_refs = context.for_motions(
        [by_name[item.name].features for item in items], exclude=[Exclude(item.motion_id, item.captions[0]) for item in items],
        embeddings=motion_embeddings,
    )
    for item, refs in zip(items, motion_refs):
        item.motion_context = refs
    if start_context_factor:
        starts = [by_name[i.name].features[: max(1, int(len(i.tokens) * START_QUERY_SHARE)) * start_context_factor] for i in items]
        for item, refs in zip(items, context.for_motions(starts, exclude=[Exclude(item.motion_id, item.captions[0]) for item in items])):
            item.start_context = refs
    return items


def parse_task_weights(text: str) -> dict[str, float]:
    """"t2m=0.1,t2m_frames=0.35" -> {"t2m": 0.1, "t2m_frames": 0.35}; one sentence for anything else."""
    from .prompts import TASKS

    weights: dict[str, float] = {}
    for part in filter(None, (p.strip() for p in text.split(","))):
        task, _, value = part.partition("=")
        try:
            weight = float(value)
        except ValueError:
            weight = -1.0
        if task.strip() not in TASKS or not weight >= 0:
            raise UserInputError(f"--task-weights takes task=weight pairs with tasks from {', '.join(TASKS)} and weights >= 0, not '{part}'.")
        weights[task.strip()] = weight
    return weights


def _fit_stage(
    model, items, val_items, config: LanguageTrainConfig, out_dir: Path, steps: int, fps: float, factor: int, stage2: bool = False
):
    from torch.utils.data import DataLoader

    from ..training import HARDWARE_FIELDS, StepBatches, fit, hardware, make_trainer, resume_step, shuffled_batches, write_run_config
    from .data import DEFAULT_TASK_WEIGHTS, InstructionDataset, LengthBucketSampler, QueryCollate, collate_examples

    write_run_config(out_dir, config, may_change=("max_steps", "pretrained_stage", "snapshot_every", "candidates", "caption_candidates", *HARDWARE_FIELDS))
    weights = None
    if stage2 and (config.paraphrase_weight or config.task_weights):
        weights = {**DEFAULT_TASK_WEIGHTS, "paraphrase": config.paraphrase_weight, **parse_task_weights(config.task_weights)}
    mask_rate = config.query_mask_rate if stage2 else 0.0
    references = (config.k, max(config.k, config.reference_pool))
    dataset = InstructionDataset(
        items, model.vocabulary, fps=fps, downsample_factor=factor, task_weights=weights, query_mask_rate=mask_rate,
        references=references, sample_references=True, seed=config.seed,
        self_reference_rate=config.self_reference_rate if stage2 else 0.0, self_reference_noise=config.self_reference_noise,
        motion_task_context=config.motion_task_context and stage2, caption_dropout=config.caption_dropout if stage2 else 0.0,
    )  # fmt: skip
    val = InstructionDataset(
        val_items, model.vocabulary, fps=fps, downsample_factor=factor, references=references, seed=config.seed + 1,
        motion_task_context=config.motion_task_context and stage2,
    )  # fmt: skip
    drop_last = len(items) > config.batch_size
    if config.bucket_by_length:
        buckets = LengthBucketSampler(dataset, config.batch_size, drop_last=drop_last, seed=config.seed)
        epochs = (buckets.epoch_batches, len(buckets))
    else:
        epochs = shuffled_batches(len(dataset), config.batch_size, config.seed, drop_last=drop_last)
    # batches and the examples drawn for them are functions of (seed, step): a resumed run goes on exactly
    collate = QueryCollate(items + val_items) if model.config.query_prefix else collate_examples
    train_loader = DataLoader(dataset, batch_sampler=StepBatches(*epochs, start=resume_step(out_dir)), collate_fn=collate)
    val_loader = DataLoader(val, batch_size=config.batch_size, shuffle=False, collate_fn=collate)
    callbacks = [_snapshot_callback(config.snapshot_every, out_dir / "snapshots")] if config.snapshot_every else []
    trainer = make_trainer(
        out_dir, max_steps=steps, val_every_n_steps=min(config.val_every, steps),
        **hardware(config), callbacks=callbacks,
    )  # fmt: skip
    module = _module_class()(model, config, steps)
    fit(trainer, module, train_loader, val_loader, out_dir)
    model.eval()
    return model


@dataclass
class LanguageModelParts:
    """What training produced and used: the trained language model with the frozen parts and the data's facts,
    from which `ReMoGPT.from_training` makes the model (the trainer never writes a model directory itself)."""

    model: object  # MotionLanguageModel
    motion_tokenizer: object
    retriever: object
    database: object
    fps: float
    feature_dim: int
    config: LanguageTrainConfig


def train_language_model(
    config: LanguageTrainConfig, out_dir: str | Path, *, limit_samples: int | None = None, pretrain_only: bool = False
) -> LanguageModelParts:
    """Both stages (or stage 1 only). Each stage resumes from its checkpoint; the language model is saved in
    out_dir (stage 2) or out_dir/stages/pretrain/model (stage 1)."""
    import torch

    from ..data.folder import HumanML3DFolder
    from ..retrieval.database import RetrievalDatabase
    from ..tokenizer.model import MotionTokenizer
    from ..training import on_main_process, seed_everything
    from .context import RETRIEVAL_MODES, ContextRetriever
    from .model import MotionLanguageModel
    from .vocabulary import MotionVocabulary, train_text_tokenizer

    if config.retrieval not in RETRIEVAL_MODES:
        raise UserInputError(f"--retrieval must be one of {', '.join(RETRIEVAL_MODES)}, not '{config.retrieval}'.")
    if config.k < 1:
        raise UserInputError(f"--k must be at least 1, not {config.k}.")
    if config.frame_offsets < 1:
        raise UserInputError(f"--frame-offsets must be at least 1, not {config.frame_offsets}.")
    if not 0.0 <= config.motion_corruption < 1.0:
        raise UserInputError(f"--motion-corruption must be in [0, 1), not {config.motion_corruption}.")
    from .copy import MIXTURES

    if config.copy_mixture not in MIXTURES:
        raise UserInputError(f"--copy-mixture must be one of {', '.join(MIXTURES)}, not '{config.copy_mixture}'.")
    if config.query_prefix and config.copy_head:
        raise UserInputError("--query-prefix and --copy-head cannot be combined (the copy path reads the prompt's ids).")
    for name in ("self_reference_rate", "self_reference_noise", "caption_dropout"):
        if not 0.0 <= getattr(config, name) <= 1.0:
            raise UserInputError(f"--{name.replace('_', '-')} must be in [0, 1], not {getattr(config, name)}.")
    if config.text_guidance and not config.caption_dropout:  # the captionless prompt would be one it never saw
        raise UserInputError("--text-guidance needs --caption-dropout above 0 (the model must learn the captionless prompt).")
    parse_task_weights(config.task_weights)  # checked before any work
    if config.self_targets:
        from .self_targets import read_self_targets

        read_self_targets(config.self_targets)  # one sentence for a file that is not one, before any work
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    seed_everything(config.seed)
    folder = HumanML3DFolder(config.data)
    train_samples, val_samples = folder.samples("train"), folder.samples("val")
    if limit_samples:
        train_samples, val_samples = train_samples[:limit_samples], val_samples[: max(1, limit_samples // 4)]
    if not train_samples or not val_samples:
        raise UserInputError(f"dataset '{config.data}' needs non-empty train and val splits to train the language model.")
    motion_tokenizer = MotionTokenizer.from_pretrained(config.tokenizer)
    database = RetrievalDatabase.load(config.index)
    retriever = database.load_retriever()
    tokens = motion_tokens_for(train_samples + val_samples, motion_tokenizer, out_dir / "motion_tokens.json")
    factor = motion_tokenizer.config.downsample_factor
    codebook = motion_tokenizer.config.codebook_size

    # The vocabulary and stage 1 (no context) are shared by every retrieval setting.
    pretrain_dir = Path(config.pretrained_stage) if config.pretrained_stage else out_dir / "stages" / "pretrain"
    stage1_model_dir = pretrain_dir / "model"
    if (stage1_model_dir / "model.safetensors").is_file():
        model = MotionLanguageModel.from_pretrained(stage1_model_dir)
    else:
        if config.pretrained_stage:
            raise UserInputError(f"--pretrained-stage '{pretrain_dir}' holds no finished stage-1 model (model/).")
        if config.t5:
            model = MotionLanguageModel.from_t5(config.t5, codebook)
        else:
            vocabulary = MotionVocabulary.build(
                train_text_tokenizer([c.text for s in train_samples for c in s.captions], config.text_vocab_size), codebook
            )
            model = MotionLanguageModel.from_preset(config.model, vocabulary)
        plain_items, plain_val = build_items(train_samples, tokens), build_items(val_samples, tokens)
        model.train()
        _fit_stage(model, plain_items, plain_val, config, pretrain_dir, config.pretrain_steps, folder.fps, factor)
        on_main_process(lambda: model.save_pretrained(stage1_model_dir))
    if pretrain_only:
        return LanguageModelParts(model, motion_tokenizer, retriever, database, folder.fps, folder.feature_dim, config)

    # references are looked up once: the top `reference_pool` per kind, of which each prompt uses k
    context = ContextRetriever(retriever, database, model.vocabulary, config.retrieval, max(config.k, config.reference_pool))
    with torch.no_grad():
        start_factor = factor if config.motion_task_context else 0
        query_retriever = retriever if config.query_prefix else None
        items = build_items(train_samples, tokens, context, start_factor, retriever=query_retriever)
        val_items = build_items(val_samples, tokens, context, start_factor, retriever=query_retriever)
        for offset in range(1, config.frame_offsets):  # training clips only: validation keeps one sequence per clip
            shifted = motion_tokens_for(train_samples, motion_tokenizer, out_dir / "motion_tokens.json", offset)
            for item in items:
                if shifted[item.name]:  # a clip shorter than one token window past the offset has none
                    item.token_variants.append(shifted[item.name])
        if config.self_targets:
            from .self_targets import read_self_targets, self_target_items

            items += self_target_items(read_self_targets(config.self_targets, config.self_target_margin), context)
    if config.query_prefix:  # stage 2 only, so every retrieval setting shares one stage 1
        model.add_query_prefix(config.query_prefix, retriever.config.latent_dim)
    if config.copy_head:
        model.add_copy_head(config.copy_mixture)
    model.train()
    _fit_stage(model, items, val_items, config, out_dir / "stages" / "instruct", config.max_steps, folder.fps, factor, stage2=True)
    on_main_process(lambda: model.save_pretrained(out_dir))  # the caller writes the whole model directory (ReMoGPT.save_pretrained)
    return LanguageModelParts(model, motion_tokenizer, retriever, database, folder.fps, folder.feature_dim, config)
