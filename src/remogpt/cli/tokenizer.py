"""`remogpt train tokenizer`, `remogpt tokenize`, `remogpt evaluate tokenizer`: the motion VQ-VAE."""

from __future__ import annotations

import json
from pathlib import Path

from typing import Optional

import typer

from .app import app, evaluate_app, train_app
from .hardware import ACCELERATOR, DEVICES, NUM_NODES, PRECISION, SEED, hardware_overrides, say_once

TOKENIZER = typer.Option(..., "--tokenizer", help="Tokenizer directory (a training run or its model/ folder).")


@train_app.command("tokenizer")
def train_tokenizer_command(
    data: Path = typer.Option(..., "--data", help="HumanML3D-layout dataset folder (train and val splits, Mean/Std)."),
    out: Path = typer.Option(..., "--out", help="Run directory; rerunning with the same one resumes."),
    preset: str = typer.Option("small", "--preset", help="tiny (seconds), small (CPU, minutes) or paper."),
    max_steps: int = typer.Option(None, "--max-steps", help="Training steps (default: the preset's)."),
    accelerator: str = ACCELERATOR,
    devices: str = DEVICES,
    num_nodes: int = NUM_NODES,
    precision: Optional[str] = PRECISION,
    seed: Optional[int] = SEED,
):
    """Train the motion tokenizer (VQ-VAE) on 64-frame windows; writes OUT/model for `--tokenizer OUT`."""
    from ..tokenizer.train import make_config, train_tokenizer

    hardware = hardware_overrides(accelerator, devices, num_nodes, precision)
    model_dir = train_tokenizer(make_config(preset, data=data, max_steps=max_steps, seed=seed, **hardware), out)
    say_once(f"tokenizer saved to {model_dir}")


@app.command("tokenize")
def tokenize_command(
    motion: Path = typer.Argument(..., help="Features (T, 263) .npy, or joint positions (T, 22, 3) to convert first."),
    tokenizer: Path = TOKENIZER,
):
    """Print the motion tokens of one motion, space-separated."""
    from ..io import load_npy
    from ..motion.features import is_feature_array, joints_to_features
    from ..tokenizer import MotionTokenizer

    array = load_npy(motion, name="motion")
    model = MotionTokenizer.from_pretrained(tokenizer)
    if not is_feature_array(array) and array.ndim == 3:
        array = joints_to_features(array)
    features = model.check_features(array, where=f"motion file '{motion}'")
    tokens = model.encode([features], batch_size=1)[0]
    typer.echo(" ".join(str(t) for t in tokens))


@evaluate_app.command("tokenizer")
def evaluate_tokenizer_command(
    tokenizer: Path = TOKENIZER,
    data: Path = typer.Option(..., "--data", help="HumanML3D-layout dataset folder."),
    split: str = typer.Option("test", "--split", help="Split whose whole motions are reconstructed."),
    output: Path = typer.Option(None, "-o", "--output", help="JSON file (default: TOKENIZER/eval_<split>.json)."),
):
    """Reconstruct whole motions: MPJPE (mm, root-aligned and global), codebook usage and perplexity, as JSON."""
    from ..data.folder import HumanML3DFolder
    from ..errors import UserInputError
    from ..io import save_json
    from ..pretrained import resolve_model_dir
    from ..tokenizer import MotionTokenizer
    from ..tokenizer.data import load_split
    from ..tokenizer.metrics import evaluate_tokenizer
    from ..training import pick_device

    model = MotionTokenizer.from_pretrained(tokenizer, map_location=pick_device())
    folder = HumanML3DFolder(data)
    if folder.feature_dim != model.config.feature_dim:
        raise UserInputError(
            f"dataset '{data}' has {folder.feature_dim}-d features, the tokenizer expects {model.config.feature_dim}."
        )
    motions = load_split(folder, split, min_frames=model.config.downsample_factor)
    if not motions:
        raise UserInputError(f"split '{split}' of '{data}' has no motion of at least 4 frames.")
    metrics = {"tokenizer": str(resolve_model_dir(tokenizer)), "data": str(data), "split": split}
    metrics.update(evaluate_tokenizer(model, motions))
    output = output or resolve_model_dir(tokenizer) / f"eval_{split}.json"
    save_json(output, metrics)
    typer.echo(json.dumps(metrics, indent=2))
    typer.echo(f"wrote {output}")


