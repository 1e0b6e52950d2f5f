"""Long motions (remogpt/timeline.py) against real clips: foot skating and what happens at the joins.

    python bench/bench_long_motion.py --data data/builtin [--model DIR] [--timelines 12] [--seconds 10]

Each timeline is three test captions of `--seconds` each (30 s by default), written once with bridges (the
in-between task, 1 s) and once without (codes simply concatenated), same seed. Printed beside the dataset's own
clips: foot skating (mean toe speed in contact, m/s: synth.json's measure), the largest frame-to-frame joint step
(m) at the joins against the largest in any real clip, and jerk at the joins (the largest joint jerk, m/s^3, in a
window around each join) against the 99th percentile of real clips' per-frame largest jerk.
"""

from __future__ import annotations

import argparse
import random
import time

import numpy as np


def frame_steps(joints: np.ndarray) -> np.ndarray:
    """Largest joint displacement (m) between consecutive frames."""
    return np.linalg.norm(np.diff(joints, axis=0), axis=-1).max(-1)


def frame_jerk(joints: np.ndarray, fps: float) -> np.ndarray:
    """Largest joint jerk (m/s^3) per frame: the third difference of positions."""
    return np.linalg.norm(np.diff(joints, n=3, axis=0), axis=-1).max(-1) * fps**3


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", required=True)
    parser.add_argument("--model", default=None)
    parser.add_argument("--timelines", type=int, default=12)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--raw-feet", action="store_true", help="decode without the foot clean-up (motion/foot_contact.py)")
    args = parser.parse_args()

    from remogpt.data.folder import HumanML3DFolder
    from remogpt.data.synth.quality import skating
    from remogpt.motion.features import features_to_joints
    from remogpt.pipeline import ReMoGPT
    from remogpt.timeline import Step, generate_long

    folder = HumanML3DFolder(args.data)
    fps = folder.fps
    real = [features_to_joints(s.features) for s in folder.samples("test")]
    real_skate = np.sum([skating(j, fps) for j in real], axis=0)
    real_steps = np.concatenate([frame_steps(j) for j in real])
    real_jerk = np.concatenate([frame_jerk(j, fps) for j in real])

    model = ReMoGPT.from_pretrained(args.model)
    model.sampling.plant_feet = not args.raw_feet
    captions = sorted({s.captions[0].text for s in folder.samples("test")})
    rng = random.Random(args.seed)
    timelines = [[Step(c, args.seconds) for c in rng.sample(captions, 3)] for _ in range(args.timelines)]
    rows = []
    for transition in (1.0, 0.0):
        start = time.perf_counter()
        skate, join_steps, join_jerk = np.zeros(2), [], []
        for i, steps in enumerate(timelines):
            long = generate_long(model, steps, transition_seconds=transition, seed=args.seed + i)
            joints = long.motion.joints
            skate += skating(joints, fps)
            steps_, jerk = frame_steps(joints), frame_jerk(joints, fps)
            for a, b in long.joins:  # the bridge and two frames either side (a plain join: the frames around it)
                join_steps.append(steps_[max(0, a - 2) : b + 2].max())
                join_jerk.append(jerk[max(0, a - 3) : b + 2].max())
        seconds = time.perf_counter() - start
        rows.append((f"timeline, {transition:g} s bridges", skate[0] / skate[1], max(join_steps), np.mean(join_jerk), seconds / len(timelines)))
    # the same measure on one-clip motions: the model's (the timelines' captions, one clip each) and the tokenizer's
    # reconstructions of the real clips, to tell what the long path adds from what every generated motion has
    texts = [step.text for steps in timelines for step in steps]
    clips = model.generate_motions(texts, seed=args.seed)
    clip_skate = np.sum([skating(m.joints, fps) for m in clips], axis=0)
    decoded = model.reconstruct([s.features for s in folder.samples("test")])  # decoded as the model's own motions
    recon_skate = np.sum([skating(features_to_joints(f), fps) for f in decoded], axis=0)
    reference = real_skate[0] / real_skate[1]
    feet = "raw feet" if args.raw_feet else "feet cleaned"
    print(f"{len(timelines)} timelines of 3 x {args.seconds:g} s (test captions), model {args.model or 'shipped'}, data {args.data}, {feet}\n")
    print("| motions | foot skating (m/s) | largest step at joins (m) | mean largest jerk at joins (m/s^3) | s per timeline |")
    print("|---|---|---|---|---|")
    print(f"| real test clips | {real_skate[0] / real_skate[1]:.3f} | {real_steps.max():.3f} (largest anywhere) | "
          f"{np.percentile(real_jerk, 99):.0f} (99th percentile of frames) | - |")
    for name, skate in (("tokenizer reconstruction of the test clips", recon_skate), ("one clip per caption (the model)", clip_skate)):
        print(f"| {name} | {skate[0] / skate[1]:.3f} ({skate[0] / skate[1] / reference:.2f}x real) | - | - | - |")
    for name, skate, step, jerk, seconds in rows:
        print(f"| {name} | {skate:.3f} ({skate / reference:.2f}x real) | {step:.3f} | {jerk:.0f} | {seconds:.1f} |")


if __name__ == "__main__":
    main()
