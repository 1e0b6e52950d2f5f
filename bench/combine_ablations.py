"""Several runs of bench/ablation_lm_retrieval.py (e.g. one per training seed) in one table: each run's headline
numbers, their mean, and in how many runs `both` beats `none` on each metric, so a claim that one retrieval setting
beats another is seen across seeds, not on one.

    .venv/bin/python bench/combine_ablations.py runs/para runs/para_s1 [--out bench/results/x.md]

Headline metrics: text-to-motion R-Top1 and FID, motion-to-text BLEU@4 and CIDEr-D (x100), on `test` and `rare_test`.
A setting missing from a run is left out of that run's rows (and of the mean).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np

SETTINGS = ("none", "t2t", "t2m", "both")
SPLITS = ("test", "rare_test")
COLUMNS = ("R-Top1↑", "FID↓", "BLEU@4↑", "CIDEr-D↑")


def headline(run: Path, setting: str, split: str) -> list[float] | None:
    """[R-Top1, FID, BLEU@4, CIDEr-D] of one setting on one split, or None when the run lacks it."""
    t2m, m2t = run / "eval" / f"t2m_{split}_{setting}.json", run / "eval" / f"m2t_{split}_{setting}.json"
    if not (t2m.is_file() and m2t.is_file()):
        return None
    model = json.loads(t2m.read_text())["rows"]["model"]
    captions = next(iter(json.loads(m2t.read_text())["captions"].values()))
    return [model["r_top1"]["mean"], model["fid"]["mean"], 100 * captions["bleu4"], 100 * captions["cider"]]


def combine(runs: list[Path]) -> str:
    lines = []
    for split in SPLITS:
        lines += [f"### split `{split}`", "", "| retrieval | run | " + " | ".join(COLUMNS) + " |", "|---|---|---|---|---|---|"]
        means, per_run = {}, {}
        for setting in SETTINGS:
            rows = [(run, headline(run, setting, split)) for run in runs]
            rows = [(run, values) for run, values in rows if values is not None]
            per_run[setting] = dict(rows)
            for run, values in rows:
                lines.append(f"| {setting} | {run.name} | " + " | ".join(_format(values)) + " |")
            if len(rows) > 1:
                means[setting] = np.mean([values for _, values in rows], axis=0)
                lines.append(f"| **{setting}** | mean of {len(rows)} | " + " | ".join(_format(means[setting])) + " |")
        if "none" in means and "both" in means:
            better = _better(means["both"], means["none"])
            lines.append("")
            lines.append("`both` better than `none` on the mean: " + ", ".join(f"{c} {'yes' if ok else 'no'}" for c, ok in zip(COLUMNS, better)))
            # The same comparison inside each run (same seed, same stage 1): how often `both` wins, metric by metric.
            paired = [run for run in per_run["both"] if run in per_run["none"]]
            wins = np.sum([_better(per_run["both"][run], per_run["none"][run]) for run in paired], axis=0)
            lines.append("`both` better than `none` within a run: " + ", ".join(f"{c} {w} of {len(paired)}" for c, w in zip(COLUMNS, wins)))
        lines.append("")
    return "\n".join(lines)


def _better(both, none) -> list[bool]:
    """Per headline column: is `both` better than `none` (higher, or lower for FID)?"""
    return [b > n if c.endswith("↑") else b < n for c, b, n in zip(COLUMNS, both, none)]


def _format(values) -> list[str]:
    return [f"{values[0]:.3f}", f"{values[1]:.2f}", f"{values[2]:.1f}", f"{values[3]:.1f}"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("runs", nargs="+", type=Path, help="output folders of bench/ablation_lm_retrieval.py")
    parser.add_argument("--out", type=Path, default=None, help="also write the table here")
    args = parser.parse_args()
    missing = [str(run) for run in args.runs if not (run / "eval").is_dir()]
    if missing:
        raise SystemExit(f"no eval/ folder in {', '.join(missing)}; run bench/ablation_lm_retrieval.py there first")
    table = combine(args.runs)
    print(table)
    if args.out:
        args.out.write_text(table)


if __name__ == "__main__":
    main()
