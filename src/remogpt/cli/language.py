"""`remogpt train lm`, `remogpt generate`, `remogpt caption`: the motion-language model."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from ..errors import UserInputError
from .app import app, train_app
from .hardware import ACCELERATOR, DEVICES, NUM_NODES, PRECISION, SEED, hardware_overrides, say_once

OUTPUT_SUFFIXES = (".npy", ".gif", ".mp4", ".png")


@train_app.command("lm")
def train_lm_command(
    data: Path = typer.Option(..., "--data", help="HumanML3D-layout dataset folder."),
    tokenizer: Path = typer.Option(..., "--tokenizer", help="Trained motion tokenizer (remogpt train tokenizer)."),
    index: Path = typer.Option(..., "--index", help="Retrieval database with motion tokens (remogpt index build --tokenizer)."),
    out: Path = typer.Option(..., "--out", help="Output model directory (resumes if it holds a run)."),
    retrieval: str = typer.Option("both", help="none (MotionGPT) | t2t (uni-modal) | t2m (cross-modal) | both (ReMoGPT)."),
    k: int = typer.Option(1, "--k", help="References per similarity type."),
    preset: str = typer.Option("small", help="tiny | small | medium | paper (T5-base size, 12 + 12 layers)."),
    max_steps: Optional[int] = typer.Option(None, help="Instruction-tuning steps (stage 2)."),
    pretrain_steps: Optional[int] = typer.Option(None, help="Motion-language pretraining steps (stage 1, no context)."),
    pretrained_stage: Optional[Path] = typer.Option(None, help="Reuse stage 1 from this stage directory (same budget across settings)."),
    t5: Optional[Path] = typer.Option(None, "--t5", help="A local pretrained T5 directory (e.g. flan-t5-base) instead of a preset."),
    batch_size: Optional[int] = typer.Option(None, help="Override the preset's batch size."),
    query_mask_rate: Optional[float] = typer.Option(
        None, min=0.0, max=1.0, help="Stage 2: mask up to this fraction of a motion-to-text query's tokens (preset's value if unset)."
    ),
    paraphrase_weight: Optional[float] = typer.Option(None, min=0.0, help="Stage 2: weight of the caption-paraphrase task (0 = off)."),
    task_weights: Optional[str] = typer.Option(
        None, "--task-weights", help='Stage 2: task weights over the defaults, e.g. "t2m=0.1,t2m_frames=0.35" (tasks: t2m, t2m_seconds, t2m_frames, m2t, prediction, inbetween, paraphrase).'
    ),
    pretrain_only: bool = typer.Option(False, help="Stop after stage 1 (to share it between settings)."),
    learning_rate: Optional[float] = typer.Option(None, "--lr", help="Override the preset's peak learning rate."),
    precision: Optional[str] = PRECISION,
    bucket: Optional[bool] = typer.Option(None, "--bucket/--no-bucket", help="Batch examples of similar length (default on)."),
    snapshot_every: Optional[int] = typer.Option(None, min=0, help="Also save the model every N steps (learning curves)."),
    motion_corruption: Optional[float] = typer.Option(
        None, min=0.0, max=0.99, help="Up to this share of decoder-input motion codes made random in training (T2M-GPT)."
    ),
    reference_pool: Optional[int] = typer.Option(
        None, min=1, help="Stage 2: draw each prompt's k references per kind from the top N (default: the top k)."
    ),
    self_reference_rate: Optional[float] = typer.Option(
        None, min=0.0, max=1.0, help="Stage 2: share of t2m/m2t prompts whose first reference is the clip itself (0 = never)."
    ),
    self_reference_noise: Optional[float] = typer.Option(
        None, min=0.0, max=1.0, help="Stage 2: up to this share of that self-reference's motion codes made random."
    ),
    caption_dropout: Optional[float] = typer.Option(
        None, min=0.0, max=1.0, help="Stage 2: share of text-to-motion prompts with neither caption nor context (for text guidance)."
    ),
    text_guidance: Optional[float] = typer.Option(
        None, "--text-guidance", min=0.0, max=10.0,
        help="Text-guidance scale written as the model's decoding default (needs --caption-dropout; 0 = off).",
    ),
    self_targets: Optional[Path] = typer.Option(
        None, "--self-targets", help="Stage 2: also train on these best-of-N targets (`remogpt train self-targets`)."
    ),
    self_target_margin: Optional[float] = typer.Option(
        None, help="Keep only self targets the retriever scores at least this much above their top-1 reference."
    ),
    copy_head: Optional[bool] = typer.Option(
        None, "--copy-head/--no-copy-head", help="Stage 2: add a copy path from the prompt (pointer-generator, language/copy.py)."
    ),
    copy_mixture: Optional[str] = typer.Option(
        None, "--copy-mixture", help="How the copy path mixes with generating: gate (See et al.) or joint (CopyNet)."
    ),
    motion_task_context: Optional[bool] = typer.Option(
        None, "--motion-task-context/--no-motion-task-context",
        help="Stage 2: prediction and in-between prompts hold references retrieved with the motion's start (default off).",
    ),
    query_prefix: Optional[int] = typer.Option(
        None, min=0, max=16, help="Stage 2: read the query's retriever embedding as N prefix vectors in front of the prompt (0 = off)."
    ),
    frame_offsets: Optional[int] = typer.Option(
        None, min=1, max=64, help="Stage 2: also tokenize each training clip starting 1..N-1 frames later; examples draw one sequence (1 = off)."
    ),
    accelerator: str = ACCELERATOR,
    devices: str = DEVICES,
    num_nodes: int = NUM_NODES,
    seed: Optional[int] = SEED,
):
    """Train the motion-language model: pretraining, then instruction tuning with retrieved context."""
    from ..language.train import make_config, train_language_model

    for path, name in ((data, "--data"), (tokenizer, "--tokenizer"), (index, "--index")):
        if not path.exists():
            raise UserInputError(f"{name} '{path}' does not exist.")
    config = make_config(
        preset, data=data, tokenizer=tokenizer, index=index, retrieval=retrieval, k=k, max_steps=max_steps,
        pretrain_steps=pretrain_steps, batch_size=batch_size, query_mask_rate=query_mask_rate, paraphrase_weight=paraphrase_weight, task_weights=task_weights, seed=seed,
        pretrained_stage=str(pretrained_stage) if pretrained_stage else None, t5=str(t5) if t5 else None,
        learning_rate=learning_rate, bucket_by_length=bucket, snapshot_every=snapshot_every,
        motion_corruption=motion_corruption, reference_pool=reference_pool,
        self_reference_rate=self_reference_rate, self_reference_noise=self_reference_noise,
        caption_dropout=caption_dropout, text_guidance=text_guidance, self_targets=str(self_targets) if self_targets else None, self_target_margin=self_target_margin,
        copy_head=copy_head, copy_mixture=copy_mixture, motion_task_context=motion_task_context, query_prefix=query_prefix, frame_offsets=frame_offsets,
        **hardware_overrides(accelerator, devices, num_nodes, precision),
    )
    parts = train_language_model(config, out, pretrain_only=pretrain_only)
    if pretrain_only:
        say_once(f"stage 1 written to {out / 'stages' / 'pretrain'}")
        return
    from ..notices import held_out_queries
    from ..pipeline import ReMoGPT
    from ..training import on_main_process

    def write() -> None:
        remogpt = ReMoGPT.from_training(parts)
        remogpt.calibrate_matches(*held_out_queries(data))  # when to tell a user their request matches nothing
        remogpt.save_pretrained(out)

    on_main_process(write)
    say_once(f"model written to {out}")


@train_app.command("self-targets")
def train_self_targets_command(
    model: Path = typer.Option(..., "--model", help="A model directory with retrieval (its retriever reranks the candidates)."),
    data: Path = typer.Option(..., "--data", help="HumanML3D-layout dataset folder: its captions are the prompts."),
    out: Path = typer.Option(..., "--out", help="The targets file to write (.json), for `remogpt train lm --self-targets`."),
    split: str = typer.Option("train", help="The split whose captions are prompted (train: the model's own training split)."),
    candidates: int = typer.Option(8, min=2, max=64, help="Motions sampled per caption; the retriever keeps the closest."),
    captions_per_clip: int = typer.Option(1, min=1, help="Prompt each clip with its first N captions."),
    seed: int = SEED,
):
    """Best-of-N self-training targets: the model's reranked motions for a split's captions (language/self_targets.py)."""
    from ..data.folder import HumanML3DFolder
    from ..language.self_targets import best_of_n_targets, write_self_targets

    if out.suffix != ".json":
        raise UserInputError(f"--out '{out}' must be a .json file.")
    if not data.is_dir():
        raise UserInputError(f"--data '{data}' is not a folder.")
    remogpt = _load_model(model)
    if remogpt.retriever is None or remogpt.context.mode == "none":
        raise UserInputError(f"model '{model}' has no retrieval: self targets are prompted and reranked with its retriever and database.")
    samples = HumanML3DFolder(data).samples(split)
    if not samples:
        raise UserInputError(f"dataset '{data}' has no '{split}' samples.")
    remogpt.sampling.candidates = candidates
    seed = 0 if seed is None else seed
    records = best_of_n_targets(remogpt, samples, captions_per_clip=captions_per_clip, seed=seed, log=lambda line: typer.echo(line, err=True))
    provenance = {"model": str(model), "data": str(data), "split": split, "candidates": candidates, "captions_per_clip": captions_per_clip, "seed": seed}
    write_self_targets(out, records, provenance)
    beats = [r["score"] > r["reference_score"] for r in records if r["reference_score"] is not None]
    share = f"; the kept motion scores above its top-1 reference for {sum(beats) / len(beats):.0%}" if beats else ""
    typer.echo(f"{len(records)} targets written to {out}{share}")


def _load_model(model: Optional[Path], database: Optional[Path] = None, raw_feet: bool = False):
    from ..pipeline import ReMoGPT

    loaded = ReMoGPT.from_pretrained(model)
    if database is not None:
        loaded.use_database(database)
    if raw_feet:
        loaded.sampling.plant_feet = False
    return loaded


RAW_FEET_HELP = "Keep the decoder's feet as they come (no foot clean-up: planted feet may slide)."
MODEL_LENGTH_HELP = "Without --length, let the model end the motion itself instead of giving it its top-1 reference's length."
TEXT_GUIDANCE_HELP = "Guidance scale toward the prompt against its captionless instruction (0 = off; default: the model's)."
DATABASE_HELP = "Retrieve the prompt's references from this database instead of the model's (`remogpt index build` with its retriever and tokenizer)."
CAPTION_CANDIDATES_HELP = "Keep N caption beams and write the one the retriever finds closest to the motion (default: the model's)."


def _print_notices(notices) -> None:
    for notice in notices:  # on stderr: the result on stdout stays clean for scripts
        typer.echo(f"note: {notice}", err=True)


def _print_context(references) -> None:
    for ref in references:
        typer.echo(f"  context ({ref.kind}, {ref.similarity:.2f}): {ref.caption} [{ref.name}, {len(ref.codes)} motion tokens]")


@app.command("generate")
def generate_command(
    text: Optional[str] = typer.Argument(
        None, help="What the person does, e.g. 'a person waves with the right hand'; steps in order: 'walk forward | sit down'."
    ),
    output: Path = typer.Option(..., "-o", "--output", help="out.npy (joints, or features with --features) | .gif | .mp4 | .png"),
    model: Optional[Path] = typer.Option(None, "--model", help="Model directory (default: the shipped model)."),
    length: Optional[float] = typer.Option(None, "--length", help="Requested duration in seconds."),
    seed: Optional[int] = typer.Option(None, "--seed", help="Random seed for sampling."),
    features: bool = typer.Option(False, "--features", help="Write the 263-d features instead of joints (.npy)."),
    show_context: bool = typer.Option(False, "--show-context", help="Print the retrieved references."),
    temperature: float = typer.Option(1.0, help="Sampling temperature."),
    top_k: Optional[int] = typer.Option(None, help="Top-k sampling."),
    top_p: Optional[float] = typer.Option(None, help="Nucleus sampling."),
    candidates: Optional[int] = typer.Option(
        None, "--candidates", help="Sample N motions and keep the one the retriever finds closest to the text (default: the model's)."
    ),
    context_guidance: Optional[float] = typer.Option(
        None, "--context-guidance", help="Guidance scale toward the retrieved references (0 = off; default: the model's)."
    ),
    text_guidance: Optional[float] = typer.Option(None, "--text-guidance", help=TEXT_GUIDANCE_HELP),
    reference_anchor: float = typer.Option(
        0.0, "--reference-anchor", help="Follow the top-1 reference's codes where the model is unsure: log-probability bonus W (0 = off, 3 = close; 20 = copy it)."
    ),
    timeline: Optional[Path] = typer.Option(
        None, "--timeline", help='Steps from a file, one JSON object a line: {"text": "walk forward", "seconds": 8}.'
    ),
    transition: float = typer.Option(1.0, "--transition", help="Seconds of each bridge between steps (0 = none)."),
    database: Optional[Path] = typer.Option(None, "--database", help=DATABASE_HELP),
    raw_feet: bool = typer.Option(False, "--raw-feet", help=RAW_FEET_HELP),
    model_length: bool = typer.Option(False, "--model-length", help=MODEL_LENGTH_HELP),
):
    """Generate a motion from text: one clip, or a longer motion from several steps (one continuous motion)."""
    from ..timeline import Step, parse_steps, read_timeline

    if (text is None) == (timeline is None):
        raise UserInputError("give either a TEXT or --timeline FILE (not both).")
    _check_output(output, features)
    remogpt = _load_model(model, database, raw_feet)
    remogpt.sampling.temperature, remogpt.sampling.top_k, remogpt.sampling.top_p = temperature, top_k, top_p
    if candidates is not None:
        remogpt.sampling.candidates = candidates
    if context_guidance is not None:
        remogpt.sampling.context_guidance = context_guidance
    if text_guidance is not None:
        remogpt.sampling.text_guidance = text_guidance
    if model_length:
        remogpt.sampling.reference_length = False
    remogpt.sampling.reference_anchor = reference_anchor
    remogpt.sampling.check()  # every setting, one sentence, before any work
    steps = read_timeline(timeline) if timeline is not None else parse_steps(text)
    one_clip = remogpt.seconds_range()[1]
    if len(steps) > 1 or timeline is not None or (length is not None and length > one_clip):
        if length is not None:  # the whole motion's length, shared evenly by the steps
            if timeline is not None:
                raise UserInputError("--length does not apply to a timeline; give each step its \"seconds\" in the file.")
            steps = [Step(step.text, length / len(steps)) for step in steps]
        _generate_long(remogpt, steps, output, features, show_context, transition, seed)
        return
    frames = remogpt.frames_for(length, "--length") if length is not None else None
    motion = remogpt.generate_motions([steps[0].text], [frames], seed=seed)[0]
    if show_context:
        _print_context(motion.context)
    _print_notices(motion.notices)
    _write_motion(motion, output, features, text, remogpt.config.fps)


def _generate_long(remogpt, steps, output: Path, features: bool, show_context: bool, transition: float, seed) -> None:
    """Several steps (or one longer than a clip) as one continuous motion (timeline.py)."""
    from ..timeline import generate_long

    long = generate_long(remogpt, steps, transition_seconds=transition, seed=seed)
    fps = remogpt.config.fps
    for step, (start, end) in zip(long.steps, long.segments):
        typer.echo(f"  {start / fps:5.1f}-{end / fps:5.1f} s  {step.text}")
    if show_context:
        _print_context(long.motion.context)
    _print_notices(long.motion.notices)
    _write_motion(long.motion, output, features, long.motion.text, fps)


@app.command("predict")
def predict_command(
    motion: Path = typer.Argument(..., help="The start: a .npy of features (T, 263) or joints (T, 22, 3)."),
    output: Path = typer.Option(..., "-o", "--output", help="out.npy (joints, or features with --features) | .gif | .mp4 | .png"),
    model: Optional[Path] = typer.Option(None, "--model", help="Model directory (default: the shipped model)."),
    seconds: Optional[float] = typer.Option(None, "--seconds", help="Length of the continuation (default: the model decides)."),
    seed: Optional[int] = typer.Option(None, "--seed", help="Random seed for sampling."),
    features: bool = typer.Option(False, "--features", help="Write the 263-d features instead of joints (.npy)."),
    text: Optional[str] = typer.Option(None, "--text", help="What the continuation shows (generated, then bridged to the start)."),
    raw_feet: bool = typer.Option(False, "--raw-feet", help=RAW_FEET_HELP),
):
    """Continue a motion: the start followed by what the model predicts comes next, as one clip."""
    _check_output(output, features)
    remogpt = _load_model(model, raw_feet=raw_feet)
    start = _read_motion(motion, remogpt)
    if text is not None:  # text-guided: the text's motion, bridged to the start by the in-between task (timeline.py)
        _guided(remogpt, text, seconds, seed, output, features, before=start)
        return
    frames = remogpt.frames_for(seconds, "--seconds") if seconds is not None else None
    result = remogpt.predict([start], frames, seed=seed)[0]
    _write_motion(result, output, features, f"continuation of {motion.name}", remogpt.config.fps)


@app.command("inbetween")
def inbetween_command(
    start: Path = typer.Argument(..., help="The motion before the gap (.npy features or joints)."),
    end: Path = typer.Argument(..., help="The motion after the gap (.npy features or joints)."),
    output: Path = typer.Option(..., "-o", "--output", help="out.npy (joints, or features with --features) | .gif | .mp4 | .png"),
    model: Optional[Path] = typer.Option(None, "--model", help="Model directory (default: the shipped model)."),
    seconds: Optional[float] = typer.Option(None, "--seconds", help="Length of the gap (default: the model decides)."),
    seed: Optional[int] = typer.Option(None, "--seed", help="Random seed for sampling."),
    features: bool = typer.Option(False, "--features", help="Write the 263-d features instead of joints (.npy)."),
    text: Optional[str] = typer.Option(None, "--text", help="What happens in the gap (generated, then bridged to both ends)."),
    raw_feet: bool = typer.Option(False, "--raw-feet", help=RAW_FEET_HELP),
):
    """Fill the gap between two motions: start, the generated bridge, end, as one clip."""
    _check_output(output, features)
    remogpt = _load_model(model, raw_feet=raw_feet)
    head, tail = _read_motion(start, remogpt), _read_motion(end, remogpt)
    if text is not None:
        _guided(remogpt, text, seconds, seed, output, features, before=head, after=tail)
        return
    frames = remogpt.frames_for(seconds, "--seconds") if seconds is not None else None
    result = remogpt.inbetween([head], [tail], frames, seed=seed)[0]
    _write_motion(result, output, features, f"{start.stem} to {end.stem}", remogpt.config.fps)


def _guided(remogpt, text: str, seconds, seed, output: Path, features: bool, before=None, after=None) -> None:
    """Text-guided prediction / in-betweening: the text's motion between the given ones, joined by bridges."""
    from ..timeline import DEFAULT_TRANSITION_SECONDS, Step, generate_long

    def encode(motion):
        return None if motion is None else list(map(int, remogpt.motion_tokenizer.encode([motion])[0]))

    import math

    if seconds is not None and not (math.isfinite(seconds) and seconds > 0):
        raise UserInputError(f"--seconds must be a positive number, not {seconds}.")
    sides = (before is not None) + (after is not None)
    # `seconds` is all that is new (bridges and the text's motion): the bridges take at most half of it
    transition = DEFAULT_TRANSITION_SECONDS if seconds is None else min(DEFAULT_TRANSITION_SECONDS, seconds / (2 * sides))
    long = generate_long(remogpt, [Step(remogpt.check_prompt(text), seconds)], transition, seed,
                         before=encode(before), after=encode(after))  # fmt: skip
    _print_notices(long.motion.notices)
    _write_motion(long.motion, output, features, long.motion.text, remogpt.config.fps)


def _check_output(output: Path, features: bool) -> None:
    suffix = output.suffix.lower()
    if suffix not in OUTPUT_SUFFIXES:
        raise UserInputError(f"output '{output}' must end in one of {', '.join(OUTPUT_SUFFIXES)}.")
    if features and suffix != ".npy":
        raise UserInputError("--features only applies to a .npy output.")


def _read_motion(path: Path, remogpt):
    """A motion file the user gave -> raw features (one input path: motion.features.motion_to_features)."""
    from ..io import load_npy
    from ..motion.features import motion_to_features

    features = motion_to_features(load_npy(path, name="motion"), where=f"motion file '{path}'", feature_dim=remogpt.config.feature_dim)
    shortest, _ = remogpt.frame_range()
    if len(features) < shortest:
        raise UserInputError(f"motion file '{path}' has {len(features)} frames; at least {shortest} are needed.")
    return remogpt.motion_tokenizer.check_features(features, where=f"motion file '{path}'")  # its scale, too


def _write_motion(motion, output: Path, features: bool, title: str, fps: float) -> None:
    from ..io import save_npy

    if output.suffix.lower() == ".npy":
        save_npy(output, motion.features if features else motion.joints)
    else:
        from ..render import render_motion

        render_motion(motion.joints, output, title=title, fps=fps)
    typer.echo(f"wrote {output} ({len(motion.joints)} frames, {len(motion.joints) / fps:.1f} s)")


@app.command("caption")
def caption_command(
    motion: Path = typer.Argument(..., help="Motion .npy: features (T, 263) or joints (T, 22, 3)."),
    model: Optional[Path] = typer.Option(None, "--model", help="Model directory (default: the shipped model)."),
    show_context: bool = typer.Option(False, "--show-context", help="Print the retrieved references."),
    beams: int = typer.Option(1, help="Beam search width (1 = greedy)."),
    candidates: Optional[int] = typer.Option(None, "--candidates", help=CAPTION_CANDIDATES_HELP),
    database: Optional[Path] = typer.Option(None, "--database", help=DATABASE_HELP),
):
    """Describe a motion in words."""
    remogpt = _load_model(model, database)
    features = _read_motion(motion, remogpt)
    remogpt.sampling.caption_beams = beams
    if candidates is not None:
        remogpt.sampling.caption_candidates = candidates
    remogpt.sampling.check()
    text, references = remogpt.caption_motions([features])[0]
    if show_context:
        _print_context(references)
    _print_notices(remogpt.context_notices(references))
    typer.echo(text)


@train_app.command("all")
def train_all_command(
    data: Path = typer.Option(..., "--data", help="HumanML3D-layout dataset folder (e.g. from `remogpt data synth`)."),
    out: Path = typer.Option(..., "--out", help="Model directory to create (resumes and skips finished stages)."),
    preset: str = typer.Option("small", help="tiny | small | paper: the size of every stage."),
    retrieval: str = typer.Option("both", help="none | t2t | t2m | both."),
    k: int = typer.Option(1, "--k", help="References per similarity type."),
    lm_steps: Optional[int] = typer.Option(None, help="Language-model instruction-tuning steps."),
    lm_pretrain_steps: Optional[int] = typer.Option(None, help="Language-model pretraining steps."),
    guidance_steps: Optional[int] = typer.Option(
        None, min=0, help="Text-guidance stage: steps continuing the language model with caption dropout (0 = none; default: the preset's)."
    ),
    tokenizer_steps: Optional[int] = typer.Option(None, help="Tokenizer training steps."),
    retriever_steps: Optional[int] = typer.Option(None, help="Retriever training steps."),
    evaluator_steps: Optional[int] = typer.Option(None, help="Evaluator training steps."),
    replications: Optional[int] = typer.Option(None, help="Replications of the final evaluation."),
    evaluate: bool = typer.Option(True, help="Write the final evaluation report."),
    seed: int = typer.Option(0, min=0, help="The language model's random seed (the other stages keep their presets')."),
    accelerator: str = ACCELERATOR,
    devices: str = DEVICES,
    num_nodes: int = NUM_NODES,
    precision: Optional[str] = PRECISION,
):
    """Every stage in order: statistics, tokenizer, retriever, database, evaluator, language model, report."""
    from ..train_all import TrainAllSettings, train_all

    if not data.is_dir():
        raise UserInputError(f"--data '{data}' is not a folder.")
    train_all(TrainAllSettings(
        data=str(data), out=str(out), preset=preset, retrieval=retrieval, k=k, lm_steps=lm_steps,
        lm_pretrain_steps=lm_pretrain_steps, guidance_steps=guidance_steps, tokenizer_steps=tokenizer_steps, retriever_steps=retriever_steps,
        evaluator_steps=evaluator_steps, replications=replications, evaluate=evaluate, seed=seed,
        **hardware_overrides(accelerator, devices, num_nodes, precision),
    ), say=typer.echo)  # fmt: skip
    say_once(f"model directory: {out}")
