"""Rendering: valid GIF / MP4 / PNG files, left-right colours, no mirroring, titles, and clean failures."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from remogpt.errors import UserInputError
from remogpt.motion.quaternion import quat_from_axis_angle
from remogpt.motion.skeleton import HUMANML3D, KIT
from remogpt.render import MotionRenderer, render_motion
from remogpt.render import animation, renderer, storyboard
from remogpt.render.text import font, title_lines, wrap_text

LEFT_SHOULDER, RIGHT_SHOULDER, LEFT_ELBOW, LEFT_WRIST, RIGHT_ELBOW, RIGHT_WRIST, HEAD = 16, 17, 18, 20, 19, 21, 15


def stick_figure(frames: int, *, raise_left_arm: bool = False, step_m: float = 0.02) -> np.ndarray:
    """The HumanML3D target skeleton in its rest pose (facing +Z), walking along +X by `step_m` per frame."""
    quats = np.zeros((frames, HUMANML3D.num_joints, 4))
    quats[..., 0] = 1.0
    if raise_left_arm:  # turn the left upper arm (and what hangs below it) from pointing down to pointing up
        quats[:, LEFT_SHOULDER] = quat_from_axis_angle(np.array([0.0, 0.0, 1.0]), np.array(np.pi))
    root = np.zeros((frames, 3))
    root[:, 0] = step_m * np.arange(frames)
    root[:, 1] = 0.95
    return HUMANML3D.forward_kinematics(quats, root).astype(np.float32)


def hue(pixel) -> str:
    r, g, b = (int(c) for c in pixel[:3])
    if b > r + 60 and b > g + 20:
        return "blue"
    if r > b + 60 and r > g + 60:
        return "red"
    return "other"


def test_gif_has_one_frame_per_motion_frame_at_the_motion_fps(tmp_path):
    out = render_motion(stick_figure(12), tmp_path / "walk.gif", title="a person walks to the left")
    with Image.open(out) as gif:
        assert gif.format == "GIF" and gif.n_frames == 12
        assert gif.info["duration"] == 50  # 20 fps, HumanML3D's rate
        assert gif.width == animation.ANIMATION_WIDTH


def test_fps_option_sets_the_frame_duration(tmp_path):
    out = render_motion(stick_figure(5), tmp_path / "slow.gif", fps=12.5)
    with Image.open(out) as gif:
        assert gif.info["duration"] == 80


def test_mp4_is_an_h264_mp4_with_encoder_friendly_size(tmp_path):
    out = render_motion(stick_figure(10), tmp_path / "walk.mp4", title="walking")
    data = out.read_bytes()
    assert data[4:8] == b"ftyp"  # ISO base media file, first box
    assert b"avc1" in data and b"moov" in data  # H.264 track, index written
    assert len(data) > 2000


def test_png_storyboard_lays_out_evenly_spaced_panels(tmp_path):
    motion = stick_figure(30)
    sheet8 = Image.open(render_motion(motion, tmp_path / "eight.png", title="walking"))
    sheet3 = Image.open(render_motion(motion, tmp_path / "three.png", title="walking", frames=3))
    gap, panel = 10, storyboard.PANEL_WIDTH
    assert sheet8.size[0] == 4 * panel + 5 * gap  # 4 per row, two rows
    assert sheet3.size[0] == 3 * panel + 4 * gap and sheet3.size[1] < sheet8.size[1]
    short = Image.open(render_motion(stick_figure(3), tmp_path / "short.png", frames=8))
    assert short.size[0] == 3 * panel + 4 * gap  # never more panels than frames


def test_left_limbs_are_blue_right_limbs_red_and_the_picture_is_not_mirrored():
    joints = stick_figure(2, raise_left_arm=True)
    figure = MotionRenderer(joints, HUMANML3D, 480)
    image = np.asarray(figure.frame(0))
    px = figure.joint_pixels(0)

    # Seen from the front (the camera is in front of a subject facing +Z), the subject's left is on screen right.
    assert px[LEFT_SHOULDER, 0] > px[RIGHT_SHOULDER, 0]
    # The raised left arm is above the head, and everything drawn above the head is blue.
    assert px[LEFT_WRIST, 1] < px[HEAD, 1]
    head_radius_px = 0.1 * figure.pixels_per_metre(0)[HEAD]
    above_head = image[: int(px[HEAD, 1] - head_radius_px - 2)]
    hues = [hue(p) for p in above_head.reshape(-1, 3)]
    assert hues.count("blue") > 100 and hues.count("red") == 0

    def colour_along(a: int, b: int) -> str:
        x, y = (px[a] + px[b]) / 2
        return hue(image[int(round(y)), int(round(x))])

    assert colour_along(LEFT_ELBOW, LEFT_WRIST) == "blue"
    assert colour_along(RIGHT_ELBOW, RIGHT_WRIST) == "red"


def test_long_titles_wrap_within_the_width_and_keep_every_word():
    face = font(18)
    caption = "a person walks forward slowly then turns around and sits down on a chair while waving with the left hand"
    lines = wrap_text(caption, face, 300, max_lines=10)
    assert len(lines) > 1 and all(face.getlength(line) <= 300 for line in lines)
    assert " ".join(lines) == caption
    clipped = wrap_text(caption, face, 300, max_lines=2)
    assert len(clipped) == 2 and clipped[-1].endswith("…")
    orphan = "a person walks forward, turns around, crouches and walks back to where they started, then stands still " \
        "swinging the arms"  # greedy wrapping on a storyboard leaves "arms" alone on the second line
    assert len(wrap_text(orphan, font(22), 1250 - 44, 4)[-1].split()) == 1
    balanced, band = title_lines(orphan, 1250, 22, max_lines=4)
    widths = [font(22).getlength(line) for line in balanced]
    assert len(balanced) == 2 and band > 2 * 22 and min(widths) > 0.8 * max(widths)


def test_joint_layouts_kit_and_raw_smplh_render(tmp_path):
    quats = np.zeros((6, KIT.num_joints, 4))
    quats[..., 0] = 1.0
    kit = KIT.forward_kinematics(quats, np.zeros((6, 3)), offsets=0.25 * KIT.rest_directions).astype(np.float32)
    with Image.open(render_motion(kit, tmp_path / "kit.gif")) as gif:
        assert gif.n_frames == 6 and gif.info["duration"] == 80  # KIT-ML is 12.5 fps
    smplh = np.concatenate([stick_figure(4), np.zeros((4, 30, 3), np.float32)], axis=1)  # (T, 52, 3)
    assert render_motion(smplh, tmp_path / "smplh.png").stat().st_size > 0


def test_real_clip_from_features_and_from_joints(humanml3d_dir, tmp_path):
    features = np.load(humanml3d_dir / "new_joint_vecs" / "012314.npy")
    joints = np.load(humanml3d_dir / "new_joints" / "012314.npy")
    sheet = Image.open(render_motion(features, tmp_path / "clip.png", title="clip 012314"))
    assert sheet.width == 4 * storyboard.PANEL_WIDTH + 50
    with Image.open(render_motion(joints, tmp_path / "clip.gif")) as gif:
        assert gif.n_frames == len(joints)


def test_cli_renders(run_cli, humanml3d_dir, tmp_path):
    out = tmp_path / "clip.png"
    code, stdout, _ = run_cli("render", humanml3d_dir / "new_joints" / "012314.npy", "-o", out, "--title", "a clip")
    assert code == 0 and out.exists() and "wrote" in stdout


def _bad_inputs(tmp_path):
    good = tmp_path / "good.npy"
    np.save(good, stick_figure(4))
    nan = stick_figure(4)
    nan[2, 5, 1] = np.nan
    np.save(tmp_path / "nan.npy", nan)
    np.save(tmp_path / "shape.npy", np.zeros((4, 23, 3), np.float32))
    np.save(tmp_path / "dims.npy", np.zeros((4, 100), np.float32))
    (tmp_path / "truncated.npy").write_bytes(good.read_bytes()[:100])
    return {
        "unknown extension": (good, "out.avi", []),
        "no extension": (good, "out", []),
        "NaN": (tmp_path / "nan.npy", "out.gif", []),
        "joint count": (tmp_path / "shape.npy", "out.mp4", []),
        "feature dims": (tmp_path / "dims.npy", "out.png", []),
        "truncated": (tmp_path / "truncated.npy", "out.gif", []),
        "missing": (tmp_path / "missing.npy", "out.gif", []),
        "fps": (good, "out.gif", ["--fps", "0"]),
        "frames": (good, "out.png", ["--frames", "0"]),
    }


@pytest.mark.parametrize(
    "case", ["unknown extension", "no extension", "NaN", "joint count", "feature dims", "truncated", "missing",
             "fps", "frames"]
)
def test_cli_bad_input_exits_2_and_writes_nothing(run_cli, tmp_path, case):
    source, name, extra = _bad_inputs(tmp_path)[case]
    out_dir = tmp_path / "out"
    code, _, err = run_cli("render", source, "-o", out_dir / name, *extra)
    assert code == 2 and err.startswith("Error: ")
    assert not out_dir.exists() or list(out_dir.iterdir()) == []


def test_a_failure_while_encoding_leaves_no_partial_video(tmp_path, monkeypatch):
    real_draw = renderer.draw_frame
    calls = []

    def failing_draw(*args, **kwargs):
        calls.append(1)
        if len(calls) > 3:
            raise RuntimeError("disk full")
        return real_draw(*args, **kwargs)

    monkeypatch.setattr(renderer, "draw_frame", failing_draw)
    with pytest.raises(RuntimeError):
        render_motion(stick_figure(8), tmp_path / "broken.mp4")
    assert list(tmp_path.iterdir()) == []


def test_library_rejects_non_arrays(tmp_path):
    with pytest.raises(UserInputError):
        render_motion([[0.0]], tmp_path / "x.gif")  # type: ignore[arg-type]
    assert list(tmp_path.iterdir()) == []


def test_storyboards_follow_a_subject_that_travels_far_and_keep_it_in_frame():
    from remogpt.render.renderer import storyboard_renderer

    standing = storyboard_renderer(stick_figure(20, step_m=0.0), HUMANML3D, 300)
    travelling = storyboard_renderer(stick_figure(20, step_m=0.4), HUMANML3D, 300)  # 8 m along +X
    assert not standing.follow and travelling.follow
    for t in (0, 10, 19):
        px = travelling.joint_pixels(t)
        assert (px >= 0).all() and (px[:, 0] < travelling.width).all() and (px[:, 1] < travelling.height).all()
    # One scale for every panel: the figure is as tall in the last panel as in the first.
    heights = [np.ptp(travelling.joint_pixels(t)[:, 1]) for t in (0, 19)]
    assert abs(heights[0] - heights[1]) < 0.1 * heights[0]


def test_a_gif_too_long_for_memory_is_refused_in_one_sentence(run_cli, tmp_path):
    np.save(tmp_path / "long.npy", stick_figure(animation.MAX_GIF_FRAMES + 1))
    code, _, err = run_cli("render", tmp_path / "long.npy", "-o", tmp_path / "long.gif")
    assert code == 2 and "render it as .mp4" in err and "Traceback" not in err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["long.npy"]


def test_long_renders_report_progress_and_a_killed_render_leaves_nothing(tmp_path):
    import signal
    import subprocess
    import sys
    import time

    np.save(tmp_path / "walk.npy", stick_figure(1200))
    command = [sys.executable, "-m", "remogpt.cli", "render", str(tmp_path / "walk.npy"), "-o", str(tmp_path / "walk.mp4")]
    done = subprocess.run(command, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0 and "500/1200 frames" in done.stderr and "1000/1200 frames" in done.stderr
    (tmp_path / "walk.mp4").unlink()
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 120
    while not list(tmp_path.glob(".walk.*.mp4")):  # the temporary file exists: the render is under way
        assert process.poll() is None and time.monotonic() < deadline, process.communicate()
        time.sleep(0.05)
    process.send_signal(signal.SIGTERM)
    assert process.wait(timeout=60) == 143
    assert sorted(p.name for p in tmp_path.iterdir()) == ["walk.npy"]  # no half-written video, no temporary file


def test_a_truncated_mp4_is_told_from_a_complete_one(tmp_path):
    render_motion(stick_figure(40), tmp_path / "ok.mp4")
    assert animation.is_complete_mp4(tmp_path / "ok.mp4")
    data = (tmp_path / "ok.mp4").read_bytes()
    for cut in (len(data) - 1, len(data) // 2, 100):
        (tmp_path / "cut.mp4").write_bytes(data[:cut])
        assert not animation.is_complete_mp4(tmp_path / "cut.mp4")


@pytest.fixture
def full_disk(tmp_path):
    """A 64 KiB tmpfs (needs root and mount, as CI and the developers' machines have; skipped elsewhere)."""
    import subprocess

    folder = tmp_path / "full"
    folder.mkdir()
    if subprocess.run(["mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", str(folder)], capture_output=True).returncode:
        pytest.skip("cannot mount a small tmpfs here")
    yield folder
    subprocess.run(["umount", str(folder)], capture_output=True)


@pytest.mark.parametrize("frames", [180, 3000])  # ffmpeg fails at the end / while frames are still coming
def test_an_mp4_on_a_full_disk_is_one_sentence_and_leaves_nothing(run_cli, tmp_path, full_disk, frames):
    np.save(tmp_path / "walk.npy", stick_figure(frames))
    code, out, err = run_cli("render", tmp_path / "walk.npy", "-o", full_disk / "walk.mp4")
    assert code == 2 and "is the disk full?" in err and "Traceback" not in err and "FFMPEG" not in err
    assert list(full_disk.iterdir()) == []
