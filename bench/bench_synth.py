"""Built-in dataset generation speed: `synthesize` end to end, and where the time of one motion goes.

    .venv/bin/python bench/bench_synth.py                      # 2000 motions, 2 workers (the target: < 60 s)
    .venv/bin/python bench/bench_synth.py --motions 300 --workers 1

Prints wall-clock time and the CPU time of this process and its workers together; on a shared machine the CPU
time divided by the number of workers is the wall time the run would take on that many free cores. Then, on a
sample of motions in this process, the CPU time per motion of each stage: captions, animation, fitting the mirror
back onto the skeleton, feature encoding (joints_to_features, original + mirror), decoding, writing the files.
"""

from __future__ import annotations

import argparse
import resource
import tempfile
import time
from pathlib import Path

import numpy as np

BUDGET_SECONDS = 60.0


def cpu_seconds() -> float:
    own = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def stages(count: int, root: Path) -> dict[str, float]:
    from remogpt.data.folder import write_motion
    from remogpt.data.synth.animate import animate
    from remogpt.data.synth.build import _caption_objects
    from remogpt.data.synth.captions import captions
    from remogpt.data.synth.compose import sample_spec
    from remogpt.data.synth.pose import fit_to_rig
    from remogpt.data.synth.rig import default_rig
    from remogpt.motion.features import features_to_joints, joints_to_features
    from remogpt.motion.mirror import mirror_joints

    rng = np.random.default_rng(0)
    specs = [sample_spec(rng) for _ in range(count)]
    totals = dict.fromkeys(("captions", "animate", "fit mirror", "encode x2", "decode x2", "write x2"), 0.0)
    clock = time.process_time
    for index, spec in enumerate(specs):
        start = clock()
        texts = captions(spec, np.random.default_rng(index))
        totals["captions"] += clock() - start
        start = clock()
        joints = animate(spec, np.random.default_rng(index)).joints
        totals["animate"] += clock() - start
        start = clock()
        mirrored = fit_to_rig(mirror_joints(joints), default_rig())
        totals["fit mirror"] += clock() - start
        start = clock()
        features = [joints_to_features(j, retarget_skeleton=False) for j in (joints, mirrored)]
        totals["encode x2"] += clock() - start
        start = clock()
        decoded = [features_to_joints(f) for f in features]
        totals["decode x2"] += clock() - start
        start = clock()
        for name, f, j in zip((f"{index:06d}", f"M{index:06d}"), features, decoded):
            write_motion(root, name, features=f, joints=j, captions=_caption_objects(texts))
        totals["write x2"] += clock() - start
    return {name: 1000 * value / count for name, value in totals.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--motions", type=int, default=2000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--sample", type=int, default=100, help="motions timed stage by stage")
    args = parser.parse_args()

    from remogpt.data.synth import synthesize

    with tempfile.TemporaryDirectory() as tmp:
        cpu0, wall0 = cpu_seconds(), time.perf_counter()
        summary = synthesize(Path(tmp) / "data", args.motions, seed=args.seed, workers=args.workers)
        wall, cpu = time.perf_counter() - wall0, cpu_seconds() - cpu0
        print(f"synthesize {args.motions} motions ({2 * args.motions} clips), {args.workers} workers:")
        print(f"  wall {wall:.1f} s ({wall / BUDGET_SECONDS:.2f} of the {BUDGET_SECONDS:.0f} s budget)")
        print(f"  cpu  {cpu:.1f} s -> {cpu / args.workers:.1f} s on {args.workers} free cores "
              f"({cpu / args.workers / BUDGET_SECONDS:.2f} of the budget)")
        print(f"  {1000 * cpu / args.motions:.1f} ms cpu per motion; foot skating "
              f"{summary['foot_skating_m_per_s']:.3f} m/s, vocabulary {summary['vocabulary']}")
        per_stage = stages(args.sample, Path(tmp) / "stages")
    total = sum(per_stage.values())
    print(f"cpu per motion by stage ({args.sample} motions, one process):")
    for name, ms in per_stage.items():
        print(f"  {name:12s} {ms:6.2f} ms  ({ms / total:.0%})")


if __name__ == "__main__":
    main()
