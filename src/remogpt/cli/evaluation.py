"""`remogpt` commands for evaluation: train evaluator, evaluate captions | t2m | m2t."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from .app import evaluate_app, train_app
from .hardware import ACCELERATOR, DEVICES, NUM_NODES, PRECISION, SEED, hardware_overrides, say_once
from .language import CAPTION_CANDIDATES_HELP, TEXT_GUIDANCE_HELP

DEFAULT_EVALUATOR_SUBDIR = "evaluator"  # DATA/evaluator is used when --evaluator is not given


def _device(name: str) -> str:
    from ..training import pick_device

    return pick_device(name)


def _model(model: Optional[Path], device: str, database: Optional[Path] = None):
    """The model `--model DIR` names (None: the real-data rows only), with `--database` in place of its own."""
    from ..errors import UserInputError

    if model is None:
        if database is not None:
            raise UserInputError("--database needs a --model whose prompts it fills.")
        return None
    from ..pipeline import load_evaluable

    loaded = load_evaluable(model, device=_device(device))
    if database is not None:
        if not hasattr(loaded, "use_database"):
            raise UserInputError(f"--model '{model}' is an evaluation stand-in, which retrieves nothing; --database does not apply.")
        loaded.use_database(database)
    return loaded


DATABASE_HELP = "Retrieve the model's references from this database instead of its own (the Motion-X-as-database experiment)."


def _evaluator_dir(evaluator: Optional[Path], data: Path) -> Path:
    from ..errors import UserInputError

    if evaluator is not None:
        return evaluator
    default = data / DEFAULT_EVALUATOR_SUBDIR
    if default.is_dir():
        return default
    raise UserInputError(
        f"no --evaluator given and '{default}' does not exist; train one with "
        f"`remogpt train evaluator --data {data} --out RUN` and pass --evaluator RUN/model."
    )


def _write_outputs(out: Optional[Path], result: dict, markdown: str) -> None:
    from ..io import atomic_path, save_json

    if out is None:
        return
    save_json(out, result)
    with atomic_path(out.with_suffix(".md")) as tmp:
        tmp.write_text(markdown + "\n")
    typer.echo(f"wrote {out} and {out.with_suffix('.md')}")


@train_app.command("evaluator")
def train_evaluator_command(
    data: Path = typer.Option(..., "--data", help="HumanML3D-layout dataset folder."),
    out: Path = typer.Option(..., "--out", help="Run directory (config, metrics.jsonl, checkpoints, model/)."),
    preset: str = typer.Option("small", "--preset", help="tiny (seconds), small (minutes on a CPU) or paper."),
    max_steps: Optional[int] = typer.Option(None, "--max-steps", help="Training steps (default: the preset's)."),
    glove: Optional[Path] = typer.Option(
        None, "--glove", help="Folder with our_vab_data.npy/_words.pkl/_idx.pkl; default: MiniLM word vectors."
    ),
    batch_size: Optional[int] = typer.Option(None, "--batch-size"),
    lr: Optional[float] = typer.Option(None, "--lr", help="Adam learning rate."),
    val_every: Optional[int] = typer.Option(None, "--val-every", help="Validate and checkpoint every N steps."),
    seed: Optional[int] = SEED,
    precision: Optional[str] = PRECISION,
    accelerator: str = ACCELERATOR,
    devices: str = DEVICES,
    num_nodes: int = NUM_NODES,
    workers: Optional[int] = typer.Option(None, "--workers", help="DataLoader worker processes."),
    progress: bool = typer.Option(True, "--progress/--no-progress", help="Show a progress bar."),
):
    """Train a text-motion evaluator (Guo et al.'s recipe) on a dataset; rerun the same command to resume."""
    from ..errors import UserInputError
    from ..evaluation.train import PRESETS, make_config, train_evaluator

    if preset not in PRESETS:
        raise UserInputError(f"--preset is '{preset}', expected one of {', '.join(PRESETS)}.")
    config = make_config(
        preset, data=data, glove=glove, max_steps=max_steps, batch_size=batch_size, lr=lr, val_every=val_every,
        seed=seed, num_workers=workers, **hardware_overrides(accelerator, devices, num_nodes, precision),
    )  # fmt: skip
    model_dir = train_evaluator(config, out, progress=progress)
    say_once(f"wrote {model_dir}")


@evaluate_app.command("captions")
def evaluate_captions_command(
    predictions: Path = typer.Argument(..., help="JSON lines: {\"id\", \"prediction\", \"references\": [...]}."),
    preprocess: str = typer.Option("ptb", "--preprocess", help="none (strings as given), lower, or ptb (COCO, Java)."),
    references: int = typer.Option(3, "--references", help="References per prediction (truncated or cycled)."),
    out: Optional[Path] = typer.Option(None, "--out", help="Write the scores and settings as JSON."),
    bertscore: bool = typer.Option(True, "--bertscore/--no-bertscore", help="BERTScore with a local model (slow part)."),
    bertscore_model: Optional[Path] = typer.Option(
        None, "--bertscore-model", help="Local Hugging Face model folder (default: the packaged MiniLM-L6)."
    ),
    bertscore_layers: int = typer.Option(6, "--bertscore-layers", help="Layer whose features BERTScore uses."),
    device: str = typer.Option("auto", "--device", help="auto, cpu or cuda (BERTScore only)."),
):
    """Score any captioning system's output with BLEU@1-4, ROUGE-L, CIDEr-D and BERTScore."""
    from ..evaluation.captions import BertScoreSettings, default_bertscore_settings, score_captions
    from ..evaluation.captions_io import read_predictions
    from ..evaluation.report import captions_markdown
    from ..io import save_json

    rows = read_predictions(predictions)
    settings = None
    if bertscore:
        settings = (
            BertScoreSettings(model=str(bertscore_model.resolve()), name=bertscore_model.name, num_layers=bertscore_layers)
            if bertscore_model is not None
            else default_bertscore_settings()
        )
    result = score_captions(
        [r["prediction"] for r in rows],
        [r["references"] for r in rows],
        preprocessing=preprocess,
        num_references=references,
        bertscore=settings,
        device=_device(device) if bertscore else None,
    )
    result["settings"]["predictions"] = str(predictions.resolve())
    typer.echo(captions_markdown(result))
    typer.echo(f"\n{len(rows)} predictions, preprocessing '{preprocess}', {references} references each.")
    if out is not None:
        save_json(out, result)
        typer.echo(f"wrote {out}")


@evaluate_app.command("t2m")
def evaluate_t2m_command(
    data: Path = typer.Option(..., "--data", help="HumanML3D-layout dataset folder (its test split is used)."),
    model: Optional[Path] = typer.Option(None, "--model", help="Model folder; without it only the real-motion row."),
    evaluator: Optional[Path] = typer.Option(
        None, "--evaluator", "--evaluator-dir", help="Evaluator folder (ours, or the official files); default DATA/evaluator."
    ),
    replications: int = typer.Option(20, "--replications", help="Protocol repetitions (20 in published tables)."),
    split: str = typer.Option("test", "--split"),
    seed: int = typer.Option(0, "--seed"),
    mm_generations: int = typer.Option(30, "--mm-generations", help="Generations per text for MultiModality."),
    cut_to_length: bool = typer.Option(
        False, "--cut-to-length/--own-length", help="Cut generated motions to the reference crop length."
    ),
    rare: bool = typer.Option(True, "--rare/--no-rare", help="Add the rare-motion Top-5% and Balanced variants."),
    out: Optional[Path] = typer.Option(None, "--out", help="Write RESULT.json (and RESULT.md beside it)."),
    device: str = typer.Option("auto", "--device", help="auto, cpu or cuda."),
    name: Optional[str] = typer.Option(None, "--name", help="Row label of the model in the table."),
    candidates: Optional[int] = typer.Option(
        None, "--candidates", help="Motions sampled per text, the retriever's best kept (default: the model's)."
    ),
    reference_rows: bool = typer.Option(
        True, "--reference-rows/--no-reference-rows", help="Add the tokenizer-reconstruction and retrieval-only rows."
    ),
    context_guidance: Optional[float] = typer.Option(
        None, "--context-guidance", help="Guidance scale toward the retrieved references (default: the model's)."
    ),
    text_guidance: Optional[float] = typer.Option(None, "--text-guidance", help=TEXT_GUIDANCE_HELP),
    database: Optional[Path] = typer.Option(None, "--database", help=DATABASE_HELP),
    raw_feet: bool = typer.Option(False, "--raw-feet", help="Evaluate the decoder's feet as they come (no foot clean-up), reference rows too."),
    model_length: bool = typer.Option(
        False, "--model-length", help="The model ends each motion itself instead of taking its top-1 reference's length."
    ),
):
    """Text-to-motion protocol: R-precision, FID, MM-Dist, Diversity, MultiModality (+ real-motion row)."""
    from ..errors import UserInputError
    from ..evaluation.runner import run_t2m

    if replications < 1:
        raise UserInputError(f"--replications must be >= 1, got {replications}.")
    if candidates is not None and candidates < 1:
        raise UserInputError(f"--candidates must be >= 1, got {candidates}.")
    loaded = _model(model, device, database)
    if raw_feet and loaded is not None:
        if not hasattr(loaded, "sampling"):
            raise UserInputError(f"--model '{model}' is an evaluation stand-in, which decodes no feet; --raw-feet does not apply.")
        loaded.sampling.plant_feet = False
    if model_length and loaded is not None:
        if not hasattr(loaded, "sampling"):
            raise UserInputError(f"--model '{model}' is an evaluation stand-in, which writes no motions of its own; --model-length does not apply.")
        loaded.sampling.reference_length = False
    result, markdown = run_t2m(
        data=data, model=loaded, model_dir=model, evaluator_dir=_evaluator_dir(evaluator, data), replications=replications,
        split=split, seed=seed, mm_generations=mm_generations, cut_to_length=cut_to_length, rare=rare,
        device=_device(device), name=name, progress=lambda message: typer.echo(message, err=True),
        candidates=candidates, reference_rows=reference_rows, context_guidance=context_guidance, text_guidance=text_guidance,
    )  # fmt: skip
    typer.echo(markdown)
    _write_outputs(out, result, markdown)


@evaluate_app.command("m2t")
def evaluate_m2t_command(
    data: Path = typer.Option(..., "--data", help="HumanML3D-layout dataset folder (its test split is used)."),
    model: Optional[Path] = typer.Option(None, "--model", help="Model folder; without it only the real-caption row."),
    evaluator: Optional[Path] = typer.Option(
        None, "--evaluator", "--evaluator-dir", help="Evaluator folder (ours, or the official files); default DATA/evaluator."
    ),
    replications: int = typer.Option(20, "--replications", help="Repetitions of the R-precision batches."),
    split: str = typer.Option("test", "--split"),
    seed: int = typer.Option(0, "--seed"),
    preprocess: str = typer.Option("ptb", "--preprocess", help="none, lower, or ptb (COCO, Java)."),
    references: int = typer.Option(3, "--references", help="References per motion."),
    bertscore: bool = typer.Option(True, "--bertscore/--no-bertscore", help="BERTScore with the local MiniLM-L6."),
    beams: int = typer.Option(1, "--beams", help="Beam width for the model's captions (1 = greedy)."),
    caption_candidates: Optional[int] = typer.Option(None, "--caption-candidates", help=CAPTION_CANDIDATES_HELP),
    out: Optional[Path] = typer.Option(None, "--out", help="Write RESULT.json (and RESULT.md beside it)."),
    device: str = typer.Option("auto", "--device", help="auto, cpu or cuda."),
    name: Optional[str] = typer.Option(None, "--name", help="Row label of the model in the table."),
    database: Optional[Path] = typer.Option(None, "--database", help=DATABASE_HELP),
):
    """Motion-to-text protocol: BLEU@1-4, ROUGE-L, CIDEr-D, BERTScore, and R-precision / MM-Dist of captions."""
    from ..errors import UserInputError
    from ..evaluation.runner import run_m2t

    if replications < 1:
        raise UserInputError(f"--replications must be >= 1, got {replications}.")
    if beams < 1:
        raise UserInputError(f"--beams must be >= 1, got {beams}.")
    result, markdown = run_m2t(
        data=data, model=_model(model, device, database), model_dir=model, evaluator_dir=_evaluator_dir(evaluator, data), replications=replications,
        split=split, seed=seed, preprocess=preprocess, references=references, bertscore=bertscore,
        device=_device(device), name=name, progress=lambda message: typer.echo(message, err=True), beams=beams,
        caption_candidates=caption_candidates,
    )  # fmt: skip
    typer.echo(markdown)
    _write_outputs(out, result, markdown)


def _motion_task_command(task: str):
    def command(
        data: Path = typer.Option(..., "--data", help="HumanML3D-layout dataset folder."),
        model: Optional[Path] = typer.Option(None, "--model", help="Model folder (default: the shipped model)."),
        evaluator: Optional[Path] = typer.Option(
            None, "--evaluator", "--evaluator-dir", help="Evaluator folder; default: the model's own, else DATA/evaluator."
        ),
        replications: int = typer.Option(1, "--replications", help="Sampling repetitions (mean and 95 % interval)."),
        split: str = typer.Option("test", "--split"),
        seed: int = typer.Option(0, "--seed"),
        out: Optional[Path] = typer.Option(None, "--out", help="Write RESULT.json (and RESULT.md beside it)."),
        device: str = typer.Option("auto", "--device", help="auto, cpu or cuda."),
        name: Optional[str] = typer.Option(None, "--name", help="Row label of the model in the table."),
    ):
        from ..errors import UserInputError
        from ..evaluation.runner import run_motion_task
        from ..pipeline import ReMoGPT

        if replications < 1:
            raise UserInputError(f"--replications must be >= 1, got {replications}.")
        loaded = ReMoGPT.from_pretrained(model, device=_device(device))
        if evaluator is None and loaded.evaluator_dir is not None:
            evaluator = loaded.evaluator_dir
        result, markdown = run_motion_task(
            task=task, data=data, model=loaded, model_dir=model, evaluator_dir=_evaluator_dir(evaluator, data),
            replications=replications, split=split, seed=seed, device=_device(device),
            name=name or ("shipped model" if model is None else None),
        )  # fmt: skip
        typer.echo(markdown)
        _write_outputs(out, result, markdown)

    return command


evaluate_app.command("pred", help="Motion prediction (MotionGPT's protocol): the first 20 % given; ADE, FDE, FID, Diversity.")(
    _motion_task_command("prediction")
)
evaluate_app.command("inbetween", help="In-betweening: the first and last 25 % given; ADE, FDE, FID, Diversity.")(
    _motion_task_command("inbetween")
)
