"""Time `render_motion` (GIF, MP4, PNG storyboard) on a 196-frame motion against a plain matplotlib 3D baseline.

    .venv/bin/python bench/bench_render.py                       # synthetic 196-frame walk
    .venv/bin/python bench/bench_render.py --motion CLIP.npy     # features or joints, cut/looped to --frames
    .venv/bin/python bench/bench_render.py --no-baseline

The baseline is what most motion repositories do (MDM / T2M-GPT `plot_3d_motion`): a matplotlib 3D axes with the
chains as coloured lines, a ground plane and the trajectory, animated with FuncAnimation and saved by PillowWriter
(GIF) or FFMpegWriter with imageio-ffmpeg's binary (MP4), at the same 480-pixel width.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np


def synthetic_walk(frames: int) -> np.ndarray:
    """A HumanML3D stick figure walking a gentle curve with swinging arms and legs (forward kinematics)."""
    from remogpt.motion.quaternion import qmul, quat_from_axis_angle
    from remogpt.motion.skeleton import HUMANML3D

    t = np.arange(frames) / HUMANML3D.fps
    phase = 2 * np.pi * 1.0 * t
    x_axis = np.array([1.0, 0.0, 0.0])
    quats = np.zeros((frames, HUMANML3D.num_joints, 4))
    quats[..., 0] = 1.0
    heading = 0.4 * t  # radians: the walk curves
    quats[:, 0] = quat_from_axis_angle(np.array([0.0, 1.0, 0.0]), heading)
    # quats[:, j] turns the bone parent(j) -> j: 4/5 the thighs, 7/8 the shins, 18/19 the upper arms
    for joint, sign in ((4, 1), (5, -1), (18, -1), (19, 1)):
        quats[:, joint] = quat_from_axis_angle(x_axis, sign * 0.5 * np.sin(phase))
    for joint in (7, 8):  # knees bend
        quats[:, joint] = qmul(quats[:, joint], quat_from_axis_angle(x_axis, 0.4 * np.abs(np.sin(phase))))
    root = np.zeros((frames, 3))
    speed = 1.1  # m/s
    root[:, 0] = np.cumsum(speed / HUMANML3D.fps * np.sin(heading))
    root[:, 2] = np.cumsum(speed / HUMANML3D.fps * np.cos(heading))
    root[:, 1] = 0.95 + 0.02 * np.sin(2 * phase)
    return HUMANML3D.forward_kinematics(quats, root).astype(np.float32)


def load_motion(path: str | None, frames: int) -> np.ndarray:
    from remogpt.io import load_npy
    from remogpt.render import prepare_joints

    if path is None:
        return synthetic_walk(frames)
    joints, _ = prepare_joints(load_npy(path), name=path)
    while len(joints) < frames:  # ping-pong a short clip to the requested length
        joints = np.concatenate([joints, joints[::-1]])
    return joints[:frames]


def matplotlib_baseline(joints: np.ndarray, out_path: Path, fps: float) -> None:
    """Plain matplotlib 3D FuncAnimation, the common way motion repositories render."""
    import imageio_ffmpeg
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.animation import FFMpegWriter, FuncAnimation, PillowWriter
    from mpl_toolkits.mplot3d.art3d import Poly3DCollection

    from remogpt.motion.skeleton import skeleton_for

    plt.rcParams["animation.ffmpeg_path"] = imageio_ffmpeg.get_ffmpeg_exe()
    skeleton = skeleton_for(joints.shape[1])
    colours = ["#a6141c", "#154396", "#404046", "#f05448", "#4292e6"]
    data = joints  # matplotlib axes (x, y, z) take the data's (x, z, y): its z axis is up
    low, high = data.min(axis=(0, 1)), data.max(axis=(0, 1))
    radius = (high - low).max() / 2
    centre = (low + high) / 2
    fig = plt.figure(figsize=(4.8, 4.8), dpi=100)
    ax = fig.add_subplot(111, projection="3d")

    def update(t: int):
        ax.clear()
        ax.set_xlim(centre[0] - radius, centre[0] + radius)
        ax.set_ylim(centre[2] - radius, centre[2] + radius)
        ax.set_zlim(0, 2 * radius)
        ax.view_init(elev=20, azim=-60)
        ax.set_box_aspect((1, 1, 1))
        ax.set_axis_off()
        x0, x1, z0, z1 = low[0], high[0], low[2], high[2]
        ground = [[(x0, z0, low[1]), (x0, z1, low[1]), (x1, z1, low[1]), (x1, z0, low[1])]]
        ax.add_collection3d(Poly3DCollection(ground, facecolor=(0.85, 0.87, 0.9, 0.6)))
        ax.plot(data[: t + 1, 0, 0], data[: t + 1, 0, 2], np.full(t + 1, low[1]), color="#1f8a70", linewidth=1.5)
        for chain, colour in zip(skeleton.chains, colours):
            ax.plot(data[t, chain, 0], data[t, chain, 2], data[t, chain, 1], color=colour, linewidth=3)

    animation = FuncAnimation(fig, update, frames=len(data), interval=1000 / fps, repeat=False)
    writer = PillowWriter(fps=fps) if out_path.suffix == ".gif" else FFMpegWriter(fps=fps)
    animation.save(str(out_path), writer=writer)
    plt.close(fig)


def timed(function, *args) -> float:
    start = time.perf_counter()
    function(*args)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--motion", help="features or joints .npy (default: a synthetic walk)")
    parser.add_argument("--frames", type=int, default=196)
    parser.add_argument("--no-baseline", action="store_true", help="skip the slow matplotlib 3D baseline")
    args = parser.parse_args()

    from remogpt.render import render_motion

    joints = load_motion(args.motion, args.frames)
    fps = 20.0
    caption = "a person walks along a gentle curve, swinging the arms"
    print(f"motion: {args.motion or 'synthetic walk'}, {len(joints)} frames, {joints.shape[1]} joints")
    print(f"{'format':8}{'remogpt (s)':>14}{'matplotlib 3D (s)':>20}{'speed-up':>10}")
    with tempfile.TemporaryDirectory() as folder:
        folder = Path(folder)
        for suffix in (".gif", ".mp4", ".png"):
            ours = timed(render_motion, joints, folder / f"ours{suffix}", caption, fps)
            size_kb = (folder / f"ours{suffix}").stat().st_size / 1024
            if args.no_baseline or suffix == ".png":
                print(f"{suffix:8}{ours:14.2f}{'-':>20}{'-':>10}   ({size_kb:.0f} KiB)")
                continue
            baseline = timed(matplotlib_baseline, joints, folder / f"baseline{suffix}", fps)
            print(f"{suffix:8}{ours:14.2f}{baseline:20.2f}{baseline / ours:9.1f}x   ({size_kb:.0f} KiB)")


if __name__ == "__main__":
    main()
