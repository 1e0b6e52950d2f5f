"""Render a motion to a GIF or MP4 animation, or a PNG storyboard sheet (`render_motion`).

Fast path: the joints of the whole clip are projected once through a fixed camera (scene.py) and each frame is
drawn with PIL on a 2x canvas then box-downsampled (antialiasing); frames stream to PIL's GIF writer or to the
ffmpeg binary shipped by imageio-ffmpeg. This is 4-10x faster than matplotlib's 3D FuncAnimation (see
bench/bench_render.py) and needs no system ffmpeg.
"""

from __future__ import annotations

import errno
import math
from pathlib import Path
from typing import Iterator

import numpy as np
from PIL import Image, ImageDraw

from ..errors import UserInputError
from ..io import atomic_path
from . import style
from .renderer import MotionRenderer
from .storyboard import DEFAULT_FRAMES, storyboard
from .text import draw_title, font, title_lines

FORMATS = (".gif", ".mp4", ".png")
ANIMATION_WIDTH = 480  # pixels
MACRO_BLOCK = 16  # video encoders want sides divisible by 16; the title band absorbs the padding
MAX_FPS = 100.0
GIF_PALETTE_SAMPLES = 5  # frames whose colours make the GIF's one global palette
# a GIF holds every frame in memory while it is written (one palette for all) and plays badly when long: past this
# many frames (two minutes at 20 fps) an .mp4, which streams, is the format for the job
MAX_GIF_FRAMES = 2400
PROGRESS_EVERY = 500  # frames between progress calls of a long render


def prepare_joints(motion: np.ndarray, name: str = "motion"):
    """Joints (T, J, 3) float32 and their skeleton, from features (T, 263|251) or joints (T, 22|21|52, 3)."""
    from ..motion.features import motion_to_joints
    from ..motion.skeleton import skeleton_for

    if not isinstance(motion, np.ndarray) or not np.issubdtype(motion.dtype, np.number):
        raise UserInputError(f"{name} must be a numeric array, got {type(motion).__name__}.")
    joints = np.asarray(motion_to_joints(motion, where=name), dtype=np.float32)
    if not np.isfinite(joints).all():  # features can decode to inf on absurd values
        raise UserInputError(f"{name} decodes to non-finite joint positions.")
    return joints, skeleton_for(joints.shape[1])


class Animation:
    """Frames of an animation: the title band on top, the scene, the time label and a progress bar."""

    def __init__(self, joints: np.ndarray, skeleton, fps: float, title: str | None, progress=None):
        self.renderer = MotionRenderer(joints, skeleton, ANIMATION_WIDTH)
        self.fps = fps
        self.progress = progress  # called (frames done, frames) every PROGRESS_EVERY frames, for long renders
        lines, band = title_lines(title, ANIMATION_WIDTH, 18, max_lines=3)
        height = int(math.ceil((band + self.renderer.height) / MACRO_BLOCK) * MACRO_BLOCK)
        self.top = height - self.renderer.height
        self.size = (ANIMATION_WIDTH, height)
        self.template = Image.new("RGB", self.size, style.BACKGROUND)
        if lines:
            draw_title(self.template, lines, 18, self.top)

    def __len__(self) -> int:
        return self.renderer.num_frames

    def frame(self, t: int) -> Image.Image:
        width, height = self.size
        image = self.template.copy()
        image.paste(self.renderer.frame(t), (0, self.top))
        draw = ImageDraw.Draw(image)
        label = f"{t / self.fps:5.2f} s   frame {t + 1}/{len(self)}"
        draw.text((10, height - 12), label, fill=style.TEXT_MUTED, font=font(13), anchor="ls")
        draw.rectangle([0, height - 4, width * (t + 1) / len(self), height], fill=style.TRAJECTORY_DONE)
        return image

    def __iter__(self) -> Iterator[Image.Image]:
        for t in range(len(self)):
            if self.progress is not None and (t + 1) % PROGRESS_EVERY == 0:
                self.progress(t + 1, len(self))
            yield self.frame(t)


def write_gif(animation: Animation, path: Path) -> None:
    """One global palette from a few sample frames (no colour flicker), no dithering (flat colours stay flat)."""
    samples = np.unique(np.linspace(0, len(animation) - 1, GIF_PALETTE_SAMPLES).round().astype(int))
    width, height = animation.size
    sheet = Image.new("RGB", (width, height * len(samples)))
    for i, t in enumerate(samples):
        sheet.paste(animation.frame(int(t)), (0, i * height))
    palette = sheet.quantize(colors=255, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE)
    indexed = [frame.quantize(palette=palette, dither=Image.Dither.NONE) for frame in animation]
    indexed[0].save(path, format="GIF", save_all=True, append_images=indexed[1:], duration=1000.0 / animation.fps,
                    loop=0, optimize=False)


def write_mp4(animation: Animation, path: Path) -> None:
    """H.264 through the ffmpeg binary bundled with imageio-ffmpeg (no system ffmpeg), frames streamed to its stdin.

    The process is ours, so it is always dead before this returns or raises: an interrupted render (Ctrl-C, SIGTERM)
    cannot have ffmpeg create the file again after io.atomic_path removed it."""
    import subprocess

    import imageio_ffmpeg

    width, height = animation.size  # multiples of MACRO_BLOCK (the title band absorbs the padding)
    command = [
        imageio_ffmpeg.get_ffmpeg_exe(), "-y", "-loglevel", "quiet",
        "-f", "rawvideo", "-vcodec", "rawvideo", "-s", f"{width}x{height}", "-pix_fmt", "rgb24", "-r", f"{animation.fps:g}", "-i", "-",
        "-an", "-vcodec", "libx264", "-pix_fmt", "yuv420p", "-crf", "15", "-preset", "veryfast", "-movflags", "+faststart",
        str(path),
    ]  # fmt: skip
    process = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        try:
            for frame in animation:
                process.stdin.write(np.asarray(frame, dtype=np.uint8).tobytes())
            process.stdin.close()
        except BrokenPipeError:  # ffmpeg stopped taking frames: it could not write, e.g. a full disk
            raise OSError(errno.EIO, "the video encoder stopped writing (is the disk full?)", str(path)) from None
        code = process.wait()
    finally:
        if process.poll() is None:
            process.kill()
        process.wait()
    if code != 0 or not is_complete_mp4(path):  # ffmpeg can fail on its last write (a full disk)
        raise OSError(errno.EIO, "the video encoder could not finish the file (is the disk full?)", str(path))


def is_complete_mp4(path: Path) -> bool:
    """The file is a sequence of MP4 boxes that fills it exactly and holds the index ('moov') and the data ('mdat')."""
    import struct

    size, offset, seen = path.stat().st_size, 0, set()
    with open(path, "rb") as handle:
        while offset < size:
            handle.seek(offset)
            header = handle.read(16)
            if len(header) < 8:
                return False
            length, kind = struct.unpack(">I4s", header[:8])
            if length == 1 and len(header) == 16:  # 64-bit size
                length = struct.unpack(">Q", header[8:16])[0]
            if length < 8:
                return False
            seen.add(kind)
            offset += length
    return offset == size and {b"moov", b"mdat"} <= seen


def render_motion(
    motion: np.ndarray,
    out_path: str | Path,
    title: str | None = None,
    fps: float | None = None,
    *,
    frames: int = DEFAULT_FRAMES,
    name: str = "motion",
    progress=None,
) -> Path:
    """Render `motion` (features (T, 263|251) or joints (T, 22|21|52, 3)) to `out_path`.

    .gif / .mp4: an animation at `fps` (default: the skeleton's, 20 for HumanML3D, 12.5 for KIT);
    .png: a storyboard of `frames` evenly spaced frames. `title` (e.g. the caption) is wrapped on top.
    The file appears only when complete; bad input raises UserInputError naming `name`. `progress(done, total)`
    is called every PROGRESS_EVERY frames of an animation.
    """
    out_path = Path(out_path)
    suffix = out_path.suffix.lower()
    if suffix not in FORMATS:
        raise UserInputError(
            f"output '{out_path}' has extension '{out_path.suffix}', expected one of {', '.join(FORMATS)}."
        )
    if fps is not None and not (math.isfinite(fps) and 0 < fps <= MAX_FPS):
        raise UserInputError(f"fps must be a number in (0, {MAX_FPS:g}], got {fps}.")
    if int(frames) != frames or frames < 1:
        raise UserInputError(f"storyboard frames must be a positive whole number, got {frames}.")
    joints, skeleton = prepare_joints(motion, name)
    fps = float(fps if fps is not None else skeleton.fps)
    if suffix == ".gif" and len(joints) > MAX_GIF_FRAMES:
        raise UserInputError(
            f"{name} has {len(joints)} frames; a .gif holds at most {MAX_GIF_FRAMES} (it is written in memory): "
            "render it as .mp4, which streams."
        )

    with atomic_path(out_path) as tmp:
        if suffix == ".png":
            storyboard(joints, skeleton, fps, title, int(frames)).save(tmp, format="PNG")
        elif suffix == ".gif":
            write_gif(Animation(joints, skeleton, fps, title, progress), tmp)
        else:
            write_mp4(Animation(joints, skeleton, fps, title, progress), tmp)
    return out_path
