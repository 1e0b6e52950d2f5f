"""Render a motion to a GIF or MP4 animation, or a PNG storyboard sheet.

Fast path: the joints of the whole clip are projected once through a fixed camera (scene.py) and each frame is
drawn with PIL on a 2x canvas then box-downsampled (antialiasing); frames go straight to PIL's GIF writer or to the
ffmpeg binary shipped by imageio-ffmpeg. This is several times faster than matplotlib's 3D FuncAnimation
(see bench/bench_render.py) and needs no system ffmpeg.
"""

from __future__ import annotations

import itertools
import math
from pathlib import Path
from typing import Iterator

import numpy as np
from PIL import Image, ImageDraw

from ..errors import UserInputError
from ..io import atomic_path
from . import style
from .draw import background, draw_frame, font, wrap_text
from .scene import Ground, ProjectedScene, make_view, project_scene, root_offsets
from .style import skeleton_bones

FORMATS = (".gif", ".mp4", ".png")
SUPERSAMPLE = 2  # draw at 2x and downsample: antialiased lines at a fraction of matplotlib's cost
ANIMATION_SIZE = 480  # pixels, width of GIF / MP4 frames
PANEL_SIZE = 300  # pixels, width of one storyboard panel
STORYBOARD_COLUMNS = 4
DEFAULT_STORYBOARD_FRAMES = 8
MACRO_BLOCK = 16  # video encoders want sides divisible by 16; every output is padded to it
MAX_FPS = 100.0
FOLLOW_GAIN = 1.6  # storyboards follow the subject when that shows it this much larger


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


class MotionRenderer:
    """Draws frames of one clip seen through a camera fixed for the whole clip.

    The scene is `width` pixels wide and as tall as the clip needs (between half and all of `width`). With
    follow=True the camera moves with the root (same orientation and scale in every frame): for storyboards of a
    subject that travels far.
    """

    def __init__(self, joints: np.ndarray, skeleton, width: int, *, follow: bool = False):
        ss = SUPERSAMPLE
        self.joints = np.asarray(joints, dtype=np.float64)
        self.ground = Ground.around(self.joints)
        self.view = make_view(self.joints, self.ground, width * ss, width * ss, margin=0.04 * width * ss,
                              min_height=width * ss // 2, height_multiple=ss, follow=follow)
        self.follow = follow
        self.width, self.height = width, self.view.size[1] // ss
        self.scale = ss * width / ANIMATION_SIZE  # line widths follow the picture size
        self.bones, self.head = skeleton_bones(skeleton)
        self.num_frames = len(joints)
        self._offsets = root_offsets(self.joints)
        self._fixed = None if follow else self._scene_and_background(self.view)

    def _scene_and_background(self, view) -> tuple[ProjectedScene, Image.Image]:
        scene = project_scene(self.joints, self.ground, view)
        return scene, background(scene, self.scale)

    def _scene(self, t: int) -> tuple[ProjectedScene, Image.Image]:
        if self._fixed is not None:
            return self._fixed
        return self._scene_and_background(self.view.shifted(self._offsets[t]))

    def frame(self, t: int) -> Image.Image:
        """The scene at frame `t`, width x height RGB."""
        scene, base = self._scene(t)
        return draw_frame(base, scene, t, self.bones, self.head, self.scale).reduce(SUPERSAMPLE)

    def joint_pixels(self, t: int) -> np.ndarray:
        """Pixel positions (J, 2) of the joints of frame `t` in `frame(t)`."""
        return self._scene(t)[0].joints_px[t] / SUPERSAMPLE

    def pixels_per_metre(self, t: int) -> np.ndarray:
        """(J,) how many pixels of `frame(t)` one metre at each joint spans (perspective)."""
        return self._scene(t)[0].px_per_metre[t] / SUPERSAMPLE


def storyboard_renderer(joints: np.ndarray, skeleton, width: int) -> MotionRenderer:
    """The fixed view, unless the subject travels so far that a following view shows it much larger."""
    fixed = MotionRenderer(joints, skeleton, width)
    following = MotionRenderer(joints, skeleton, width, follow=True)
    if following.view.viewport.scale > FOLLOW_GAIN * fixed.view.viewport.scale:
        return following
    return fixed


def _padded(height: int) -> int:
    return int(math.ceil(height / MACRO_BLOCK) * MACRO_BLOCK)


def _title_block(title: str | None, width: int, font_size: int, max_lines: int) -> tuple[list[str], int]:
    """Wrapped title lines and the band height they need (0 without a title)."""
    if not title or not title.strip():
        return [], 0
    face = font(font_size)
    lines = wrap_text(" ".join(title.split()), face, width - 2 * font_size, max_lines)
    return lines, int(len(lines) * font_size * 1.3 + font_size)


def _draw_title(image: Image.Image, lines: list[str], font_size: int, band: int) -> None:
    draw = ImageDraw.Draw(image)
    face = font(font_size)
    line_height = font_size * 1.3
    top = (band - len(lines) * line_height) / 2
    for i, line in enumerate(lines):
        draw.text((image.width / 2, top + (i + 0.5) * line_height), line, fill=style.TEXT, font=face, anchor="mm")


def _time_label(t: int, num_frames: int, fps: float) -> str:
    return f"{t / fps:5.2f} s   frame {t + 1}/{num_frames}"


def animation_frames(joints: np.ndarray, skeleton, fps: float, title: str | None) -> Iterator[Image.Image]:
    """Every frame of the clip as an RGB image: title band, scene, time label and a progress bar."""
    renderer = MotionRenderer(joints, skeleton, ANIMATION_SIZE)
    width = ANIMATION_SIZE
    lines, band = _title_block(title, width, 18, max_lines=3)
    height = _padded(band + renderer.height)
    top = height - renderer.height  # padding goes to the title band
    template = Image.new("RGB", (width, height), style.BACKGROUND)
    if lines:
        _draw_title(template, lines, 18, top)
    label_font = font(13)
    num_frames = renderer.num_frames
    for t in range(num_frames):
        image = template.copy()
        image.paste(renderer.frame(t), (0, top))
        draw = ImageDraw.Draw(image)
        draw.text((10, height - 12), _time_label(t, num_frames, fps), fill=style.TEXT_MUTED, font=label_font,
                  anchor="ls")
        progress = width * (t + 1) / num_frames
        draw.rectangle([0, height - 4, progress, height], fill=style.TRAJECTORY_DONE)
        yield image


def storyboard(joints: np.ndarray, skeleton, fps: float, title: str | None, frames: int) -> Image.Image:
    """A sheet of `frames` evenly spaced frames (4 per row), each labelled with its time, the title on top."""
    num_frames = len(joints)
    picks = np.unique(np.round(np.linspace(0, num_frames - 1, min(frames, num_frames))).astype(int))
    columns = min(STORYBOARD_COLUMNS, len(picks))
    rows = math.ceil(len(picks) / columns)
    gap, label_height = 10, 24
    width = columns * PANEL_SIZE + (columns + 1) * gap
    lines, band = _title_block(title, width, 22, max_lines=4)
    band = max(band, gap)
    renderer = storyboard_renderer(joints, skeleton, PANEL_SIZE)
    panel_height = renderer.height
    height = band + rows * (panel_height + label_height + gap)
    sheet = Image.new("RGB", (width, height), style.BACKGROUND)
    if lines:
        _draw_title(sheet, lines, 22, band)
    draw = ImageDraw.Draw(sheet)
    label_font = font(15)
    for i, t in enumerate(picks):
        row, column = divmod(i, columns)
        x = gap + column * (PANEL_SIZE + gap)
        y = band + row * (panel_height + label_height + gap)
        sheet.paste(renderer.frame(int(t)), (x, y))
        draw.rectangle([x - 1, y - 1, x + PANEL_SIZE, y + panel_height], outline=style.PANEL_BORDER)
        draw.text((x + PANEL_SIZE / 2, y + panel_height + label_height / 2 + 1),
                  f"{t / fps:.2f} s  (frame {t + 1}/{num_frames})", fill=style.TEXT, font=label_font, anchor="mm")
    return sheet


def write_gif(frames: list[Image.Image], path: Path, fps: float) -> None:
    """One global palette (no colour flicker between frames), no dithering (flat colours stay flat)."""
    step = max(1, len(frames) // 4)
    samples = frames[::step][:4]
    sheet = Image.new("RGB", (frames[0].width, frames[0].height * len(samples)))
    for i, sample in enumerate(samples):
        sheet.paste(sample, (0, i * frames[0].height))
    palette = sheet.quantize(colors=255, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE)
    indexed = [frame.quantize(palette=palette, dither=Image.Dither.NONE) for frame in frames]
    indexed[0].save(path, format="GIF", save_all=True, append_images=indexed[1:], duration=1000.0 / fps, loop=0,
                    optimize=False)


def write_mp4(frames: Iterator[Image.Image], size: tuple[int, int], path: Path, fps: float) -> None:
    """H.264 through the ffmpeg binary bundled with imageio-ffmpeg (no system ffmpeg)."""
    import imageio_ffmpeg

    writer = imageio_ffmpeg.write_frames(
        str(path), size, fps=fps, codec="libx264", quality=7, macro_block_size=MACRO_BLOCK,
        ffmpeg_log_level="error", output_params=["-movflags", "+faststart"],
    )
    writer.send(None)  # start ffmpeg
    try:
        for frame in frames:
            writer.send(np.asarray(frame))
    finally:
        writer.close()


def render_motion(
    motion: np.ndarray,
    out_path: str | Path,
    title: str | None = None,
    fps: float | None = None,
    *,
    frames: int = DEFAULT_STORYBOARD_FRAMES,
    name: str = "motion",
) -> Path:
    """Render `motion` (features (T, 263|251) or joints (T, 22|21|52, 3)) to `out_path`.

    .gif / .mp4: an animation at `fps` (default: the skeleton's, 20 for HumanML3D, 12.5 for KIT);
    .png: a storyboard of `frames` evenly spaced frames. `title` (e.g. the caption) is wrapped on top.
    The file appears only when complete; bad input raises UserInputError naming `name`.
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

    with atomic_path(out_path) as tmp:
        if suffix == ".png":
            storyboard(joints, skeleton, fps, title, int(frames)).save(tmp, format="PNG", optimize=False)
        elif suffix == ".gif":
            write_gif(list(animation_frames(joints, skeleton, fps, title)), tmp, fps)
        else:
            stream = animation_frames(joints, skeleton, fps, title)
            first = next(stream)
            write_mp4(itertools.chain([first], stream), first.size, tmp, fps)
    return out_path

