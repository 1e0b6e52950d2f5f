"""`remogpt train all`: every stage in order, from a dataset folder to a complete ReMoGPT model directory.

Stages (each skipped when its output is complete, each resuming from its last checkpoint when interrupted):
statistics -> tokenizer -> retriever -> database -> evaluator -> language model -> text guidance -> evaluation report.

The text-guidance stage (the `small` preset's; `--guidance-steps 0` leaves it out) continues the finished language
model with caption dropout, so it learns the captionless prompt that text guidance contrasts with, and makes text
guidance the model's decoding default (bench/results/lm_text_guidance.md).

Under DDP every process runs this function (Lightning starts the other ranks at the first training and they run the
command from the top): the training stages run on all of them, everything that writes (statistics, database, the
model directory, stages.json) on the main process while the others wait, and the report on the main process alone.

    OUT/                                the model directory `generate`, `caption`, `retrieve`, `evaluate`, `serve` take
      remogpt.json config.json model.safetensors tokenizer/    the language model and its ReMoGPTConfig (config.py)
      motion_tokenizer/ retriever/ database/ evaluator/        the components it was trained and is evaluated with
      runs/tokenizer runs/retriever runs/evaluator stages/     training run directories (configs, metrics, checkpoints)
      stages.json                                              which stages finished, with their settings
      report.json report.md                                    the final evaluation (t2m and m2t, test and rare_test)
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from .config import is_model_directory
from .errors import UserInputError
from .training import agreed, is_main_process, on_main_process

TRAINING_STAGES = ("tokenizer", "retriever", "evaluator", "language_model", "text_guidance")  # run by every process under DDP

# Every stage has presets of the same names (tiny, small, paper); a pipeline preset adds the report's settings.
# The text-guidance stage: its steps (0 = none), peak learning rate (None: the language model preset's), caption
# dropout, the guidance scale it ships (bench/results/lm_text_guidance.md) and its task mix over the defaults
# ("": language/data.py's; bench/results/lm_longer_guidance.md measures a text-to-motion-heavy one).
GUIDANCE = dict(guidance_steps=0, guidance_lr=None, caption_dropout=0.1, text_guidance=1.0, guidance_task_weights="")
# Text to motion 0.60 of the examples instead of 0.45, most of it with the length stated (bench/results/lm_longer_guidance.md).
T2M_HEAVY_MIX = "t2m=0.3,t2m_seconds=0.05,t2m_frames=0.25,m2t=0.3,prediction=0.05,inbetween=0.05"
PIPELINE_PRESETS = {
    "tiny": dict(GUIDANCE, replications=2, mm_generations=5),
    "small": dict(GUIDANCE, replications=3, mm_generations=5, guidance_steps=3000, guidance_lr=5e-4,
                  guidance_task_weights=T2M_HEAVY_MIX),
    "paper": dict(GUIDANCE, replications=20, mm_generations=30),
}


@dataclass
class TrainAllSettings:
    data: str
    out: str
    preset: str = "small"
    retrieval: str = "both"
    k: int = 1
    lm_steps: int | None = None
    lm_pretrain_steps: int | None = None
    guidance_steps: int | None = None  # the text-guidance stage's steps (None: the preset's; 0: no such stage)
    tokenizer_steps: int | None = None
    retriever_steps: int | None = None
    evaluator_steps: int | None = None
    replications: int | None = None
    evaluate: bool = True
    seed: int = 0  # the language model's (each other stage keeps its preset's seed)
    # where every stage trains (training.HARDWARE_FIELDS) and its precision (None: each stage's preset)
    accelerator: str = "auto"
    devices: int | str = "auto"
    num_nodes: int = 1
    precision: str | None = None

    def hardware(self) -> dict:
        return dict(accelerator=self.accelerator, devices=self.devices, num_nodes=self.num_nodes, precision=self.precision)


def _stage_log(out: Path):
    import json

    path = out / "stages.json"
    done = json.loads(path.read_text()) if path.is_file() else {}

    def mark(name: str, seconds: float, **details) -> None:
        from .io import save_json

        done[name] = {"seconds": round(seconds, 1), **details}
        if is_main_process():
            save_json(path, done)

    return done, mark


def train_all(settings: TrainAllSettings, say: Callable[[str], None] = print) -> Path:
    from .data.folder import HumanML3DFolder

    if settings.preset not in PIPELINE_PRESETS:
        raise UserInputError(f"unknown preset '{settings.preset}', expected one of {', '.join(PIPELINE_PRESETS)}.")
    preset = PIPELINE_PRESETS[settings.preset]
    data, out = Path(settings.data), Path(settings.out)
    folder = HumanML3DFolder(data)
    out.mkdir(parents=True, exist_ok=True)
    done, mark = _stage_log(out)

    say = say if is_main_process() else (lambda message: None)

    def stage(name: str, complete: Callable[[], bool], run: Callable[[], dict | None], alone: bool = False) -> None:
        # every process takes the same branch (the main process's view of the files); `alone`: the main process only
        if (complete() if alone else agreed(complete)):
            if name not in done:  # trained separately (e.g. `remogpt train tokenizer --out OUT/runs/tokenizer`)
                mark(name, 0.0, found=True)
            ran = "found in place" if done[name].get("found") else f"{done[name]['seconds']} s when it ran"
            say(f"[{name}] complete, skipped ({ran})")
            return
        say(f"[{name}] running")
        start = time.perf_counter()
        details: dict = {}
        if name in TRAINING_STAGES or alone:
            details = run() or {}
        else:
            on_main_process(lambda: details.update(run() or {}))
        mark(name, time.perf_counter() - start, **details)
        say(f"[{name}] done in {time.perf_counter() - start:.0f} s")

    has_stats = lambda: (data / "Mean.npy").is_file() and (data / "Std.npy").is_file()  # noqa: E731

    def statistics():
        if has_stats():  # a user's dataset ships its own Mean/Std: keep them
            return {"found": True}
        from .data.folder import write_stats
        from .motion.stats import mean_std

        mean, std = mean_std((folder.load_features(i, cache=False) for i in folder.ids("train")), folder.num_joints)
        write_stats(data, mean, std)
        return {"written_to": str(data)}

    stage("statistics", has_stats, statistics)

    runs = out / "runs"
    tokenizer_model = runs / "tokenizer" / "model"
    retriever_model = runs / "retriever" / "model"
    evaluator_model = runs / "evaluator" / "model"

    def tokenizer():
        from .tokenizer.train import make_config, train_tokenizer

        train_tokenizer(make_config(settings.preset, data=data, max_steps=settings.tokenizer_steps, **settings.hardware()), runs / "tokenizer")

    stage("tokenizer", lambda: (tokenizer_model / "model.safetensors").is_file(), tokenizer)

    def retriever():
        from .retrieval.train import make_config, train_retriever

        train_retriever(make_config(settings.preset, data=data, max_steps=settings.retriever_steps, **settings.hardware()), runs / "retriever")

    stage("retriever", lambda: (retriever_model / "model.safetensors").is_file(), retriever)

    def database():
        from .retrieval.database import RetrievalDatabase
        from .retrieval.model import PLTMR
        from .tokenizer.model import MotionTokenizer

        built = RetrievalDatabase.build(
            PLTMR.from_pretrained(retriever_model), folder.samples("train"), retriever_dir=retriever_model, data=data,
            split="train", encode_tokens=MotionTokenizer.from_pretrained(tokenizer_model).encode,
        )  # fmt: skip
        built.save(runs / "database")
        return {"motions": built.config.num_motions, "captions": built.config.num_pairs}

    stage("database", lambda: (runs / "database" / "config.json").is_file(), database)

    def evaluator():
        from .evaluation.train import make_config, train_evaluator

        train_evaluator(make_config(settings.preset, data=data, max_steps=settings.evaluator_steps, **settings.hardware()), runs / "evaluator")

    stage("evaluator", lambda: (evaluator_model / "model.safetensors").is_file(), evaluator)

    def language_model():
        from .language.train import make_config, train_language_model

        config = make_config(
            settings.preset, data=data, tokenizer=tokenizer_model, index=runs / "database", retrieval=settings.retrieval, k=settings.k,
            max_steps=settings.lm_steps, pretrain_steps=settings.lm_pretrain_steps, seed=settings.seed, **settings.hardware(),
        )  # fmt: skip
        parts = train_language_model(config, out)
        on_main_process(lambda: write_model(parts))

    def write_model(parts) -> None:
        """The model directory, with the evaluator its report is made with (config.py's layout)."""
        from .notices import held_out_queries
        from .pipeline import ReMoGPT

        model = ReMoGPT.from_training(parts)
        model.calibrate_matches(*held_out_queries(data))  # when to tell a user their request matches nothing
        model.save_pretrained(out, evaluator=evaluator_model)

    stage("language_model", lambda: is_model_directory(out), language_model)

    guidance_steps = preset["guidance_steps"] if settings.guidance_steps is None else settings.guidance_steps
    guidance_run = runs / "text_guidance"

    def text_guidance():
        from .language.model import MotionLanguageModel
        from .language.train import make_config, train_language_model

        # the finished language model is the stage this one continues (train lm --pretrained-stage)
        base = guidance_run / "base"
        if not (base / "model" / "model.safetensors").is_file():
            on_main_process(lambda: MotionLanguageModel.from_pretrained(out).save_pretrained(base / "model"))
        config = make_config(
            settings.preset, data=data, tokenizer=tokenizer_model, index=runs / "database", retrieval=settings.retrieval, k=settings.k,
            pretrained_stage=str(base), max_steps=guidance_steps, learning_rate=preset["guidance_lr"],
            caption_dropout=preset["caption_dropout"], text_guidance=preset["text_guidance"], seed=settings.seed,
            task_weights=preset["guidance_task_weights"],
            **settings.hardware(),
        )  # fmt: skip
        parts = train_language_model(config, guidance_run)

        def write() -> None:
            write_model(parts)
            for name in ("report.md", "report.json"):  # made with the model before this stage
                (out / name).unlink(missing_ok=True)

        on_main_process(write)

    def guided() -> bool:
        from .config import ReMoGPTConfig

        return is_model_directory(out) and ReMoGPTConfig.read(out).training.get("caption_dropout", 0.0) > 0

    if guidance_steps:
        stage("text_guidance", guided, text_guidance)

    if settings.evaluate and is_main_process():  # the other processes are done: their part was training
        report = lambda: write_report(out, data, settings.replications or preset["replications"], say, preset["mm_generations"])  # noqa: E731
        stage("report", lambda: (out / "report.md").is_file(), report, alone=True)
    return out


def write_report(
    model_dir: Path, data: Path, replications: int, say: Callable[[str], None] = print, mm_generations: int = 30
) -> dict:
    """Text-to-motion and motion-to-text with the model's own evaluator, reference rows included -> report.json/.md."""
    from .evaluation.runner import run_m2t, run_motion_task, run_t2m
    from .io import atomic_path, portable, save_json

    from .evaluation.protocol import RARE_COMPOSITIONS_SPLIT

    # the test split, and the rare-composition split where the dataset has one (the built-in data does)
    splits = ["test"] + ([RARE_COMPOSITIONS_SPLIT] if (Path(data) / f"{RARE_COMPOSITIONS_SPLIT}.txt").is_file() else [])
    from .pipeline import ReMoGPT

    model = ReMoGPT.from_pretrained(model_dir)
    results, sections = {}, [f"# Evaluation of {model_dir.name} on {portable(str(data))}"]
    for split in splits:
        common = dict(data=data, model=model, model_dir=model_dir, evaluator_dir=model_dir / "evaluator", replications=replications, split=split, name="ReMoGPT")
        t2m, t2m_table = run_t2m(**common, mm_generations=mm_generations)
        m2t, m2t_table = run_m2t(**common, bertscore=False)
        key = "" if split == "test" else f"_{split}"
        results[f"t2m{key}"], results[f"m2t{key}"] = t2m, m2t
        sections.append(f"## Text to motion ({split} split)\n\n{t2m_table}\n\n## Motion to text ({split} split)\n\n{m2t_table}")
    # the other two trained tasks, on the test split (motion_tasks.py: MotionGPT's protocol and copy baselines)
    for task in ("prediction", "inbetween"):
        result, table = run_motion_task(task=task, data=data, model=model, model_dir=model_dir,
                                        evaluator_dir=model_dir / "evaluator", name="ReMoGPT")  # fmt: skip
        results[task] = result
        sections.append(f"## Motion {'prediction' if task == 'prediction' else 'in-betweening'} (test split)\n\n{table}")
    save_json(model_dir / "report.json", results)
    text = "\n\n".join(sections) + "\n"
    with atomic_path(model_dir / "report.md") as tmp:
        tmp.write_text(text)
    say(text)
    return {"replications": replications, "splits": splits, "mm_generations": mm_generations}
