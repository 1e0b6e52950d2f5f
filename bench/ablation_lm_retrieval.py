"""The paper's retrieval ablation on one dataset with one budget: none | t2t | t2m | both, side by side.

Stage 1 (motion-language pretraining, no context) is trained once and shared, so the four settings differ only in
the context used during instruction tuning (same steps, batch, seed). Each model is then evaluated with the same
evaluator: text-to-motion (R-precision, FID, MM-Dist, ... with the real-motion row, rare-motion variants) and
motion-to-text (BLEU, ROUGE-L, CIDEr-D, caption R-precision) on the test split and on the rare-composition split.

    .venv/bin/python bench/ablation_lm_retrieval.py --data DATA --tokenizer TOK --retriever RET --evaluator EVAL \
        --out runs/ablation [--preset small] [--steps N] [--pretrain-steps N] [--replications 3] [--parallel 2] \
        [--query-mask-rate R] [--paraphrase-weight W] [--seed S] [--both MODEL_DIR] [--stage1 DIR] [--index DIR] \
        [--guidance-steps N]

`--both MODEL_DIR` takes an already trained `both` model (e.g. the output of `remogpt train all`, which is the
`both` setting) instead of training one, and shares its stage 1 with the other settings: the comparison then uses
that model's own tokenizer, database and budget. `--stage1 DIR` (a run's `stages/pretrain`) and `--index DIR` (a
built database) share ones that exist instead of training or building them.

Each setting then gets `train all`'s text-guidance stage, as the shipped model does (the preset's steps, learning
rate, task mix, caption dropout and guidance scale; `--guidance-steps 0` leaves it out): stage 2 is trained into
OUT/stage2/SETTING and continued into OUT/SETTING.

Runs two jobs at a time, one torch thread each (faster than two threads each on a 2-core machine); a setting is
evaluated as soon as its training ends.
Writes OUT/ablation.md and OUT/ablation.json.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor, as_completed
from pathlib import Path

SETTINGS = ("none", "t2t", "t2m", "both")
REMOGPT = [sys.executable, "-m", "remogpt.cli.__main__"]


def run(args: list[str], log: Path) -> float:
    start = time.perf_counter()
    env = {**os.environ, "OMP_NUM_THREADS": "1", "HF_HUB_OFFLINE": "1"}
    with open(log, "w") as handle:
        subprocess.run(REMOGPT + [str(a) for a in args], check=True, stdout=handle, stderr=subprocess.STDOUT, env=env)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    for name in ("data", "tokenizer", "retriever", "evaluator", "out"):
        parser.add_argument(f"--{name}", required=True, type=Path)
    parser.add_argument("--preset", default="small")
    parser.add_argument("--steps", type=int, default=None)
    parser.add_argument("--pretrain-steps", type=int, default=None)
    parser.add_argument("--query-mask-rate", type=float, default=None, help="stage 2, every setting alike")
    parser.add_argument("--paraphrase-weight", type=float, default=None, help="stage 2, every setting alike")
    parser.add_argument("--seed", type=int, default=None, help="training seed, every setting alike")
    parser.add_argument("--replications", type=int, default=3)
    parser.add_argument("--mm-generations", type=int, default=10)
    parser.add_argument("--parallel", type=int, default=2)
    parser.add_argument("--settings", default=",".join(SETTINGS))
    parser.add_argument("--both", type=Path, default=None, help="an already trained `both` model directory")
    parser.add_argument("--stage1", type=Path, default=None, help="a trained stage 1 (a run's stages/pretrain) to share")
    parser.add_argument("--index", type=Path, default=None, help="a built retrieval database to use")
    parser.add_argument("--guidance-steps", type=int, default=None, help="text-guidance stage (default: train all's preset; 0 = none)")
    args = parser.parse_args()
    out = args.out
    out.mkdir(parents=True, exist_ok=True)
    logs = out / "logs"
    logs.mkdir(exist_ok=True)
    timings: dict[str, float] = {}
    common = ["--preset", args.preset] + (["--max-steps", args.steps] if args.steps else []) + (
        ["--pretrain-steps", args.pretrain_steps] if args.pretrain_steps else []) + (
        ["--query-mask-rate", args.query_mask_rate] if args.query_mask_rate is not None else []) + (
        ["--paraphrase-weight", args.paraphrase_weight] if args.paraphrase_weight is not None else []) + (
        ["--seed", args.seed] if args.seed is not None else [])

    index = args.index or out / "database"
    if args.both:  # the trained model's database and stage 1 are the shared ones, unless others are given
        links = [("both", args.both)] + ([] if args.index else [("database", args.both / "runs" / "database")])
        for name, target in links:
            if not (out / name).exists():
                (out / name).symlink_to(target.resolve())
    if not (index / "config.json").is_file():
        timings["index"] = run(["index", "build", "--retriever", args.retriever, "--data", args.data, "--out", index,
                                "--tokenizer", args.tokenizer], logs / "index.log")
    shared = args.both if args.both else out / "pretrain"
    stage1 = args.stage1 or shared / "stages" / "pretrain"
    if not (stage1 / "model" / "model.safetensors").is_file():
        timings["pretrain"] = run(["train", "lm", "--data", args.data, "--tokenizer", args.tokenizer, "--index", index,
                                   "--out", shared, "--pretrain-only", *common], logs / "pretrain.log")
    settings = args.settings.split(",")
    guidance = guidance_args(args.preset, args.guidance_steps, args.seed)

    def train(setting: str) -> tuple[str, float]:
        if (out / setting / "remogpt.json").is_file():
            return setting, 0.0
        if setting == "both" and args.both:
            raise SystemExit(f"--both {args.both} has not finished training (no remogpt.json)")
        lm = ["train", "lm", "--data", args.data, "--tokenizer", args.tokenizer, "--index", index, "--retrieval", setting]
        stage2 = out / "stage2" / setting if guidance else out / setting
        seconds = 0.0
        if not (stage2 / "remogpt.json").is_file():
            seconds += run([*lm, "--out", stage2, "--pretrained-stage", stage1, *common], logs / f"train_{setting}.log")
        if guidance:  # continues the finished model as train all does (its stage-1 slot: the model itself)
            base = out / "guidance_base" / setting
            base.mkdir(parents=True, exist_ok=True)
            if not (base / "model").exists():
                (base / "model").symlink_to(stage2.resolve())
            seconds += run([*lm, "--out", out / setting, "--pretrained-stage", base, *guidance], logs / f"guidance_{setting}.log")
        return setting, seconds

    def evaluate(job: tuple[str, str, str]) -> tuple[str, float]:
        setting, task, split = job
        target = out / "eval" / f"{task}_{split}_{setting}.json"
        if target.is_file():
            return f"{task}_{split}_{setting}", 0.0
        extra = ["--replications", args.replications, "--name", setting]
        extra += ["--mm-generations", args.mm_generations] if task == "t2m" else ["--no-bertscore", "--preprocess", "lower"]
        return f"{task}_{split}_{setting}", run(["evaluate", task, "--data", args.data, "--model", out / setting,
                                                 "--evaluator", args.evaluator, "--split", split, "--out", target, *extra],
                                                logs / f"eval_{task}_{split}_{setting}.log")

    (out / "eval").mkdir(exist_ok=True)
    with ThreadPoolExecutor(args.parallel) as pool:
        # A setting is evaluated as soon as it is trained, so its evaluations use the core that a slower setting's
        # training leaves free (trainings are queued first and keep their priority).
        evaluations = []
        for future in as_completed([pool.submit(train, setting) for setting in settings]):
            setting, seconds = future.result()
            timings[f"train_{setting}"] = seconds
            evaluations += [pool.submit(evaluate, (setting, task, split))
                            for task in ("t2m", "m2t") for split in ("test", "rare_test")]
        for future in evaluations:
            key, seconds = future.result()
            timings[f"eval_{key}"] = seconds
    for split in ("test", "rare_test"):
        target = out / "eval" / f"m2t_{split}_copy.json"
        if not target.is_file():
            target.write_text(json.dumps(copy_baseline(args.data, index, split), indent=2))
    summary = summarise(out, settings)
    summary["timings_s"] = {k: round(v, 1) for k, v in timings.items()}
    summary["settings"] = vars(args) | {k: str(v) for k, v in vars(args).items() if isinstance(v, Path)}
    (out / "ablation.json").write_text(json.dumps(summary, indent=2, default=str))
    (out / "ablation.md").write_text(summary["markdown"])
    print(summary["markdown"])


def guidance_args(preset: str, steps: int | None, seed: int | None) -> list:
    """`train lm` options of train all's text-guidance stage for this preset ([] when it has none)."""
    from remogpt.train_all import GUIDANCE, PIPELINE_PRESETS

    settings = PIPELINE_PRESETS.get(preset, GUIDANCE)
    steps = settings["guidance_steps"] if steps is None else steps
    if not steps:
        return []
    lr = ["--lr", settings["guidance_lr"]] if settings["guidance_lr"] else []
    mix = ["--task-weights", settings["guidance_task_weights"]] if settings["guidance_task_weights"] else []
    return ["--preset", preset, "--max-steps", steps, *lr, *mix, "--caption-dropout", settings["caption_dropout"],
            "--text-guidance", settings["text_guidance"], *(["--seed", seed] if seed is not None else [])]


def copy_baseline(data: Path, index: Path, split: str) -> dict:
    """Captions with no language model: each test motion's top-1 motion->text caption from the database."""
    import numpy as np

    from remogpt.evaluation.captions import score_captions
    from remogpt.evaluation.protocol import EvalSplit
    from remogpt.retrieval.database import RetrievalDatabase

    from probe_caption_context import copied_captions  # bench/ is the script's directory

    test = EvalSplit.from_folder(data, "test")
    mask = test.subset_mask(data, split) if split != "test" else None
    rows = np.arange(len(test)) if mask is None else np.flatnonzero(mask)
    database = RetrievalDatabase.load(index)
    predictions = copied_captions(database, database.load_retriever(), [test.motions[i] for i in rows])
    captions = score_captions(predictions, [test.references(i) for i in rows], preprocessing="lower", num_references=3)
    return {"protocol": "m2t", "rows": {}, "captions": {"raw": captions}}


def _cell(stats: dict | None, key: str, scale: float = 1.0) -> str:
    if not stats or key not in stats:
        return "–"
    value = stats[key]
    if isinstance(value, dict):
        return f"{scale * value['mean']:.3f}±{scale * value['ci']:.3f}"
    return f"{scale * value:.1f}"


def summarise(out: Path, settings: list[str]) -> dict:
    lines = []
    for split in ("test", "rare_test"):
        lines += [f"### Text to motion, split `{split}`", "",
                  "| retrieval | R-Top1↑ | R-Top3↑ | FID↓ | MM-Dist↓ | Diversity | MModality↑ |", "|---|---|---|---|---|---|---|"]
        real, decoding, references = None, {}, {}
        for setting in settings:
            result = json.loads((out / "eval" / f"t2m_{split}_{setting}.json").read_text())
            decoding[setting] = result.get("provenance", {}).get("sampling")
            real = result["rows"].get("real motion") or real
            references.update({k: v for k, v in result["rows"].items() if k in ("tokenizer reconstruction", "retrieval only")})
            row = result["rows"].get("model")
            lines.append(f"| {setting} | " + " | ".join(_cell(row, k) for k in ("r_top1", "r_top3", "fid", "mm_dist", "diversity", "multimodality")) + " |")
        for name, row in [*references.items(), *([("real motion", real)] if real else [])]:
            lines.append(f"| {name} | " + " | ".join(_cell(row, k) for k in ("r_top1", "r_top3", "fid", "mm_dist", "diversity", "multimodality")) + " |")
        if len({json.dumps(d, sort_keys=True) for d in decoding.values()}) > 1:  # the comparison would not be fair
            lines.append(f"\n**The settings decoded differently** ({decoding}); compare them with the same decoding.")
        lines += ["", f"### Motion to text, split `{split}` (caption metrics x100, lower-cased, 3 references)", "",
                  "| retrieval | BLEU@1 | BLEU@4 | ROUGE-L | CIDEr-D | caption R-Top1 | MM-Dist↓ |", "|---|---|---|---|---|---|---|"]
        for setting in [*settings, "copy"]:
            result = json.loads((out / "eval" / f"m2t_{split}_{setting}.json").read_text())
            captions = next(iter(result.get("captions", {}).values()), {})
            row = result["rows"].get("model")
            label = "copy top-1 retrieved caption (no LM)" if setting == "copy" else setting
            lines.append(f"| {label} | " + " | ".join(_cell(captions, k, 100) for k in ("bleu1", "bleu4", "rouge_l", "cider"))
                         + f" | {_cell(row, 'r_top1')} | {_cell(row, 'mm_dist')} |")
        lines.append("")
    return {"markdown": "\n".join(lines)}


if __name__ == "__main__":
    main()
