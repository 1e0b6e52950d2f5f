"""Learning curves of the language model: quality of every training snapshot against training minutes.

A run trained with `remogpt train lm --snapshot-every N` keeps its model every N steps under
`stages/{pretrain,instruct}/snapshots/stepNNNNNN`. Each snapshot of stage 2 is put into a ReMoGPT with the run's
frozen parts (motion tokenizer, retriever, database) and evaluated with one evaluator on one split: text-to-motion
R-Top1 and FID (one replication, no MultiModality) and motion-to-text BLEU@4 and CIDEr-D (lower-cased, greedy). The
reference rows (real motion, tokenizer reconstruction, retrieval only) are printed once per run. Minutes are wall
time since the first logged step of stage 2 (runs that compare stage-2 recipes share stage 1), read from the runs'
metrics.jsonl.

    .venv/bin/python bench/learning_curve.py RUN [RUN ...] --data data/builtin --evaluator DIR [--candidates 1]
        [--split test] [--out bench/results/lm_learning_curves.json] [--plot docs/images/lm_learning_curves.png]
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path


def stage_times(run: Path) -> dict[tuple[str, int], float]:
    """(stage, step) -> minutes since the run's first logged step."""
    times = {}
    for stage in ("pretrain", "instruct"):
        path = run / "stages" / stage / "metrics.jsonl"
        if path.is_file():
            for line in path.read_text().splitlines():
                row = json.loads(line)
                times.setdefault((stage, int(row["step"]) + 1), float(row["time"]))
    start = min(value for (stage, _), value in times.items() if stage == "instruct")
    return {key: (value - start) / 60 for key, value in times.items()}


def minutes_at(times: dict, stage: str, step: int) -> float:
    steps = [s for (name, s) in times if name == stage and s <= step]
    return times[(stage, max(steps))] if steps else float("nan")


def evaluate_snapshot(lm_dir: Path, run: Path, evaluator, split, tagger, candidates: int, settings: dict, plant_feet: bool = True) -> dict:
    from remogpt.evaluation.m2t import M2TEvaluation, M2TSettings
    from remogpt.evaluation.t2m import T2MEvaluation, T2MSettings
    from remogpt.language.model import MotionLanguageModel
    from remogpt.config import ReMoGPTConfig
    from remogpt.pipeline import ReMoGPT
    from remogpt.retrieval.database import RetrievalDatabase
    from remogpt.tokenizer.model import MotionTokenizer

    config = ReMoGPTConfig(**{k: v for k, v in settings.items() if k in ("retrieval", "k", "fps", "feature_dim")})
    lm = MotionLanguageModel.from_pretrained(lm_dir)
    database = RetrievalDatabase.load(settings["index"])  # the frozen parts the run was trained with
    model = ReMoGPT(
        lm, MotionTokenizer.from_pretrained(settings["tokenizer"]), database.load_retriever(),
        database if config.retrieval != "none" else None, config,
    )  # fmt: skip
    model.sampling.candidates, model.sampling.plant_feet = candidates, plant_feet
    t2m = T2MEvaluation(evaluator, split, T2MSettings(replications=1, mm_generations=0)).run(model)
    m2t = M2TEvaluation(evaluator, split, tagger, M2TSettings(replications=1, preprocess="lower")).run(model)
    rows = t2m["rows"]
    out = {"r_top1": rows["model"]["r_top1"]["mean"], "fid": rows["model"]["fid"]["mean"]}
    out.update(bleu4=100 * m2t["captions"]["raw"]["bleu4"], cider=100 * m2t["captions"]["raw"]["cider"])
    references = {name: {"r_top1": r["r_top1"]["mean"], "fid": r["fid"]["mean"]} for name, r in rows.items() if name != "model"}
    for name, scores in m2t.get("reference_captions", {}).items():
        references.setdefault(name, {}).update(bleu4=100 * scores["raw"]["bleu4"], cider=100 * scores["raw"]["cider"])
    return {"scores": out, "references": references}


def plot(curves: dict, references: dict, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    metrics = (("r_top1", "R-Top1 ↑"), ("fid", "FID ↓"), ("cider", "CIDEr-D ↑"))
    figure, axes = plt.subplots(1, 3, figsize=(13, 3.8))
    for axis, (key, title) in zip(axes, metrics):
        for name, points in curves.items():
            axis.plot([p["minutes"] for p in points], [p[key] for p in points], marker="o", label=name)
        for (name, row), style in zip(references.items(), (":", "--", "-.")):
            if key in row:
                axis.axhline(row[key], linestyle=style, color="grey", linewidth=1, label=name)
        axis.set_title(title)
        axis.set_xlabel("stage-2 minutes (2 CPU cores, 2-4 jobs)")
        if key == "fid":
            axis.set_yscale("log")
    axes[0].legend(fontsize=7)
    figure.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, dpi=110)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("runs", nargs="+", type=Path)
    parser.add_argument("--data", type=Path, required=True)
    parser.add_argument("--evaluator", type=Path, required=True)
    parser.add_argument("--split", default="test")
    parser.add_argument("--candidates", type=int, default=1)
    parser.add_argument("--raw-feet", action="store_true", help="no foot clean-up (as the curves before it existed)")
    parser.add_argument("--steps", type=int, nargs="*", help="only these stage-2 snapshots")
    parser.add_argument("--out", type=Path, default=None)
    parser.add_argument("--plot", type=Path, default=None)
    args = parser.parse_args()

    from remogpt.evaluation.guo import load_evaluator
    from remogpt.evaluation.protocol import EvalSplit, split_captions
    from remogpt.evaluation.tagger import CaptionTagger

    evaluator = load_evaluator(args.evaluator)
    split = EvalSplit.from_folder(args.data, args.split)
    tagger = CaptionTagger.learn(split_captions(args.data, "train"))
    previous = json.loads(args.out.read_text()) if args.out and args.out.is_file() else {}
    curves, references = previous.get("curves", {}), previous.get("references", {})
    for run in args.runs:
        name = f"{run.name} (candidates {args.candidates})"
        settings = json.loads((run / "stages" / "instruct" / "config.json").read_text())
        times = stage_times(run)
        for point in curves.get(name, []):  # minutes are re-read, so older result files follow the current rule
            point["minutes"] = round(minutes_at(times, "instruct", point["step"]), 1)
        done = {p["step"] for p in curves.get(name, [])}
        for snapshot in sorted((run / "stages" / "instruct" / "snapshots").glob("step*")):
            step = int(snapshot.name[4:])
            if step in done or (args.steps and step not in args.steps):
                continue
            result = evaluate_snapshot(snapshot, run, evaluator, split, tagger, args.candidates, settings, not args.raw_feet)
            references = references or result["references"]
            point = {"step": step, "minutes": round(minutes_at(times, "instruct", step), 1), **result["scores"]}
            curves.setdefault(name, []).append(point)
            print(name, json.dumps(point), flush=True)
            if args.out:
                args.out.write_text(json.dumps({"split": args.split, "curves": curves, "references": references}, indent=2))
    print("references:", json.dumps(references))
    if args.plot:
        plot(curves, references, args.plot)
        print(f"wrote {args.plot}")


if __name__ == "__main__":
    main()
