"""BVH export: time to write a 196-frame motion, and the round-trip error of the written file.

    .venv/bin/python bench/bench_bvh.py                        # real clip from ../shared/data if present
    .venv/bin/python bench/bench_bvh.py --clip JOINTS.npy      # any joints (T, 22, 3) or features (T, 263)

Round trip: write the file, read it back with remogpt.render.bvh.read_bvh (forward kinematics on the file's
channels, checked against bvhio in tests/test_bvh.py) and measure the joint position error in millimetres, for the
clip as is (constant bone lengths) and with Gaussian noise added to every joint coordinate (bone lengths that vary,
like generated motions).
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np

DEFAULT_CLIP = Path(__file__).resolve().parents[2] / "shared" / "data" / "humanml3d" / "new_joints" / "012314.npy"


def walk(frames: int) -> np.ndarray:
    """A stick figure walking a curve by HumanML3D forward kinematics (used when no clip is available)."""
    from remogpt.motion.quaternion import quat_from_axis_angle
    from remogpt.motion.skeleton import HUMANML3D

    t = np.arange(frames) / HUMANML3D.fps
    phase = 2 * np.pi * t
    quats = np.zeros((frames, HUMANML3D.num_joints, 4))
    quats[..., 0] = 1.0
    quats[:, 0] = quat_from_axis_angle(np.array([0.0, 1.0, 0.0]), 0.4 * t)
    x_axis = np.array([1.0, 0.0, 0.0])
    for joint, sign in ((4, -1), (5, 1), (18, 1), (19, -1)):  # thighs and upper arms swing
        quats[:, joint] = quat_from_axis_angle(x_axis, sign * 0.5 * np.sin(phase))
    for joint, shift in ((7, 0.0), (8, np.pi)):  # knees bend one way
        quats[:, joint] = quat_from_axis_angle(x_axis, 0.6 * (1 + np.sin(phase + shift)))
    step = 0.05  # metres per frame (1 m/s)
    root = np.stack(
        [np.cumsum(step * np.sin(0.4 * t)), 0.9 + 0.02 * np.sin(2 * phase), np.cumsum(step * np.cos(0.4 * t))], axis=1
    )
    return HUMANML3D.forward_kinematics(quats, root).astype(np.float32)


def round_trip_mm(joints: np.ndarray, path: Path) -> tuple[float, float]:
    from remogpt.render.bvh import JOINT_NAMES, read_bvh, write_bvh

    write_bvh(joints, path)
    bvh = read_bvh(path)
    positions = bvh.positions()[:, [bvh.names.index(name) for name in JOINT_NAMES]]
    error = np.linalg.norm(positions - joints, axis=-1) * 1000
    return float(error.mean()), float(error.max())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--clip", default=str(DEFAULT_CLIP) if DEFAULT_CLIP.exists() else None)
    parser.add_argument("--frames", type=int, default=196)
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    from remogpt.io import load_npy
    from remogpt.motion.features import motion_to_joints
    from remogpt.render.bvh import format_bvh, solve_bvh, write_bvh

    if args.clip:
        clip = motion_to_joints(load_npy(args.clip)).astype(np.float64)
        name = Path(args.clip).name
    else:
        clip = walk(args.frames).astype(np.float64)
        name = "synthetic walk (forward kinematics)"
    motion = clip
    while len(motion) < args.frames:  # ping-pong a short clip to the requested length
        motion = np.concatenate([motion, motion[::-1]])
    motion = motion[: args.frames]

    with tempfile.TemporaryDirectory() as folder:
        out = Path(folder) / "motion.bvh"
        write_bvh(motion, out)  # warm-up: imports, scipy
        solve_s, format_s, write_s = [], [], []
        for _ in range(args.repeats):
            start = time.perf_counter()
            animation = solve_bvh(motion)
            solve_s.append(time.perf_counter() - start)
            start = time.perf_counter()
            format_bvh(animation)
            format_s.append(time.perf_counter() - start)
            start = time.perf_counter()
            write_bvh(motion, out)
            write_s.append(time.perf_counter() - start)
        size_kb = out.stat().st_size / 1024
        print(f"motion: {name}, {args.frames} frames ({args.frames / 20:.1f} s at 20 fps); median of {args.repeats}")
        print(f"  solve rotations  {statistics.median(solve_s) * 1000:7.1f} ms")
        print(f"  format text      {statistics.median(format_s) * 1000:7.1f} ms")
        print(f"  write_bvh total  {statistics.median(write_s) * 1000:7.1f} ms  ({size_kb:.0f} KiB file, "
              f"{args.frames / 20 / statistics.median(write_s):.0f}x real time)")

        print(f"round trip (written file read back, forward kinematics), clip {name} ({len(clip)} frames):")
        mean, worst = round_trip_mm(clip, out)
        print(f"  as is                       mean {mean:8.4f} mm   max {worst:8.4f} mm")
        rng = np.random.default_rng(args.seed)
        for sigma_mm in (2, 5, 10):
            noisy = clip + rng.normal(0.0, sigma_mm / 1000, clip.shape)
            mean, worst = round_trip_mm(noisy, out)
            displacement = np.linalg.norm(noisy - clip, axis=-1).mean() * 1000
            label = f"noise sigma {sigma_mm:2d} mm (mean {displacement:4.1f} mm)"
            print(f"  {label} mean {mean:8.4f} mm   max {worst:8.4f} mm")


if __name__ == "__main__":
    main()
