"""Scale rehearsal: every stage of `train all` at several dataset sizes, wall time and peak memory per stage.

    .venv/bin/python bench/bench_scale.py --sizes 2000 5000 15000 --work /tmp/scale [--out bench/results/scale.md]
    .venv/bin/python bench/bench_scale.py --combine a.json b.json [--out ...]   # one table from runs made apart

For each size, a built-in dataset of that many motions (+ mirrors, a share with timed sub-captions) goes through
the stages as separate `remogpt` processes: synth, statistics, tokenizer, retriever (with its text-feature cache),
database (embeddings, FAISS, motion tokens), evaluator, language model (token precompute, reference lookup, a few
steps of each stage) and a t2m evaluation of the test split. Training steps are fixed and tiny, so what grows with the
size is data handling: loading, caches, embedding, search, statistics. Each process's peak resident memory is read
from the kernel (wait4), its wall time measured around it.

The table gives, per stage and size, seconds and peak MiB, and the growth from one size to the next divided by the
growth of the data: 1.0 is linear, above ~1.3 grows worse than linearly (below 1 where a fixed start-up cost still
dominates). The projection fits each stage's time as fixed + per-motion cost on the two largest sizes and evaluates
it at HumanML3D (14 616 motions + mirrors) and Motion-X (~81 000 clips, ~40 500 + mirrors equivalent); training
steps are not part of it (they depend on the schedule, not the data size).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

HUMANML3D_MOTIONS = 14_616  # originals; mirrors double the clips as in the built-in data
MOTIONX_MOTIONS = 40_500  # ~81 000 clips


def stages(data: Path, runs: Path, workers: int) -> list[tuple[str, list[str]]]:
    tiny = ["--preset", "tiny", "--accelerator", "cpu", "--devices", "1"]
    return [
        ("synth", ["data", "synth", str(data), "--timed-captions", "0.3", "--workers", str(workers)]),
        ("statistics", ["data", "stats", str(data)]),
        ("tokenizer", ["train", "tokenizer", "--data", str(data), "--out", str(runs / "tokenizer"), "--max-steps", "20", *tiny]),
        ("retriever", ["train", "retriever", "--data", str(data), "--out", str(runs / "retriever"), "--max-steps", "10",
                       "--no-progress", *tiny]),
        ("database", ["index", "build", "--retriever", str(runs / "retriever" / "model"), "--data", str(data), "--out",
                      str(runs / "database"), "--tokenizer", str(runs / "tokenizer" / "model")]),
        ("evaluator", ["train", "evaluator", "--data", str(data), "--out", str(runs / "evaluator"), "--max-steps", "10",
                       "--no-progress", *tiny]),
        ("language_model", ["train", "lm", "--data", str(data), "--tokenizer", str(runs / "tokenizer" / "model"), "--index",
                            str(runs / "database"), "--out", str(runs / "lm"), "--pretrain-steps", "5", "--max-steps", "5", *tiny]),
        ("evaluation", ["evaluate", "t2m", "--data", str(data), "--model", str(runs / "lm"), "--evaluator",
                        str(runs / "evaluator" / "model"), "--replications", "1", "--mm-generations", "2", "--out",
                        str(runs / "t2m.json")]),
    ]  # fmt: skip


def run_stage(arguments: list[str], log: Path) -> tuple[float, float, float]:
    """(wall seconds, peak resident MiB, CPU seconds) of one `remogpt` process; stops the rehearsal with its log on
    failure. The CPU time tells a stage's own cost apart from waiting for cores other jobs hold."""
    env = {**os.environ, "OMP_NUM_THREADS": os.environ.get("OMP_NUM_THREADS", "1")}
    start = time.perf_counter()
    with open(log, "w") as handle:
        process = subprocess.Popen([sys.executable, "-m", "remogpt.cli", *arguments], stdout=handle, stderr=subprocess.STDOUT, env=env)
        _, status, usage = os.wait4(process.pid, 0)
    seconds = time.perf_counter() - start
    if os.waitstatus_to_exitcode(status) != 0:
        sys.exit(f"stage failed: remogpt {' '.join(arguments)}\n{log.read_text()[-3000:]}")
    return seconds, usage.ru_maxrss / 1024, usage.ru_utime + usage.ru_stime  # Linux reports KiB


def markdown(results: dict[int, dict[str, tuple[float, float]]]) -> str:
    sizes = sorted(results)
    names = list(results[sizes[0]])
    head = "| stage | " + " | ".join(f"{n} motions: s / MiB" for n in sizes)
    head += "".join(f" | growth {a}->{b}: time / memory" for a, b in zip(sizes, sizes[1:])) + " |"
    lines = [head, "|" + "---|" * (1 + len(sizes) + len(sizes) - 1)]
    for name in names:
        cells = [f"{results[n][name][0]:.1f} / {results[n][name][1]:.0f}" for n in sizes]
        for a, b in zip(sizes, sizes[1:]):
            ratio = b / a
            time_growth = results[b][name][0] / max(results[a][name][0], 1e-9) / ratio
            memory_growth = results[b][name][1] / max(results[a][name][1], 1e-9) / ratio
            cells.append(f"{time_growth:.2f} / {memory_growth:.2f}")
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    if len(sizes) < 2:
        return "\n".join(lines)
    # the fixed cost (start-up, model set-up, the fixed steps) and the cost per motion, from the two largest sizes
    a, b = sizes[-2], sizes[-1]
    lines += ["", f"Projection: each stage's time and peak memory as fixed + per-motion cost, fitted on the {a}- and "
              f"{b}-motion runs (training steps are fixed here, so the time is the data handling a real run adds to its "
              "training):", "",
              "| stage | fixed s | ms per motion | HumanML3D (14 616): s / GiB | Motion-X (~40 500): s / GiB |", "|---|---|---|---|---|"]
    totals = [0.0, 0.0]
    for name in names:
        projected = []
        for column in (0, 1):  # seconds, MiB
            slope = (results[b][name][column] - results[a][name][column]) / (b - a)
            projected.append([results[b][name][column] + slope * (n - b) for n in (HUMANML3D_MOTIONS, MOTIONX_MOTIONS)])
            if column == 0:
                fixed, per_motion = results[b][name][0] - slope * b, slope
        seconds, mib = projected
        totals = [t + c for t, c in zip(totals, seconds)]
        lines.append(f"| {name} | {fixed:.1f} | {1000 * per_motion:.2f} | {seconds[0]:.0f} / {mib[0] / 1024:.1f} | "
                     f"{seconds[1]:.0f} / {mib[1] / 1024:.1f} |")
    lines.append(f"| all | | | {totals[0]:.0f} s ({totals[0] / 60:.0f} min) | {totals[1]:.0f} s ({totals[1] / 60:.0f} min) |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[2000, 5000, 15000])
    parser.add_argument("--work", type=Path, help="scratch folder (datasets and runs; removed per size unless --keep)")
    parser.add_argument("--workers", type=int, default=2, help="synth worker processes")
    parser.add_argument("--keep", action="store_true")
    parser.add_argument("--resume", action="store_true",
                        help="keep a size's work folder and skip the stages its stages.json already holds (after a crash)")
    parser.add_argument("--out", type=Path, help="also write the table (markdown) and the numbers (json beside it)")
    parser.add_argument("--combine", type=Path, nargs="+", help="no runs: one table from earlier runs' json files")
    args = parser.parse_args()
    if not args.combine and args.work is None:
        parser.error("--work is needed to run the stages")

    results: dict[int, dict[str, tuple[float, float]]] = {}
    for path in args.combine or []:
        results.update({int(size): {k: tuple(v) for k, v in stages.items()} for size, stages in json.loads(path.read_text()).items()})
    for size in [] if args.combine else sorted(args.sizes):
        root = args.work / f"n{size}"
        done = root / "stages.json"  # each finished stage's numbers, written as it ends
        if root.exists() and not (args.resume and done.is_file()):
            shutil.rmtree(root)
        (root / "logs").mkdir(parents=True, exist_ok=True)
        results[size] = {k: tuple(v) for k, v in json.loads(done.read_text()).items()} if done.is_file() else {}
        for name, arguments in stages(root / "data", root / "runs", args.workers):
            if name in results[size]:
                continue
            if name == "synth":
                arguments = arguments[:3] + ["--motions", str(size)] + arguments[3:]
            results[size][name] = run_stage(arguments, root / "logs" / f"{name}.log")
            done.write_text(json.dumps(results[size], indent=1) + "\n")
            seconds, mib, cpu = results[size][name]
            print(f"{size:>6} motions  {name:<15} {seconds:8.1f} s  {mib:8.0f} MiB  {cpu:8.1f} CPU s", flush=True)
        if not args.keep:
            shutil.rmtree(root)
    table = markdown(results)
    print("\n" + table)
    if args.out:
        args.out.write_text(table + "\n")
        args.out.with_suffix(".json").write_text(json.dumps({str(k): v for k, v in results.items()}, indent=1) + "\n")


if __name__ == "__main__":
    main()
