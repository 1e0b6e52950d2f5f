"""Draw a projected scene with PIL: checkerboard ground, root trajectory, shadow and the stick figure.

The figure is drawn back to front (painter's algorithm over bones by depth); farther bones are slightly faded and
thinner (perspective), and every bone has a dark outline so crossing limbs stay readable.
"""

from __future__ import annotations

import numpy as np
from PIL import Image, ImageDraw

from . import style
from .scene import ProjectedScene
from .style import Bone

BONE_THICKNESS_M = 0.045
HEAD_RADIUS_M = 0.095
JOINT_FADE = 0.3  # how far the farthest bone fades towards the background


def draw_ground(draw: ImageDraw.ImageDraw, scene: ProjectedScene) -> None:
    grid = scene.grid_px
    rows, cols = grid.shape[0] - 1, grid.shape[1] - 1
    for i in range(rows):
        for j in range(cols):
            cell = [tuple(grid[i, j]), tuple(grid[i, j + 1]), tuple(grid[i + 1, j + 1]), tuple(grid[i + 1, j])]
            draw.polygon(cell, fill=style.GROUND_DARK if (i + j) % 2 else style.GROUND_LIGHT)
    outline = [tuple(grid[0, 0]), tuple(grid[0, -1]), tuple(grid[-1, -1]), tuple(grid[-1, 0]), tuple(grid[0, 0])]
    draw.line(outline, fill=style.GROUND_EDGE, width=max(1, round(scene.size[0] / 400)))


def draw_trajectory(draw: ImageDraw.ImageDraw, scene: ProjectedScene, upto: int | None, scale: float) -> None:
    """The whole root path (light) or, with `upto`, the part walked so far (dark) and the current root marker."""
    path = [tuple(p) for p in scene.root_px[: None if upto is None else upto + 1]]
    colour = style.TRAJECTORY_FULL if upto is None else style.TRAJECTORY_DONE
    width = max(1, round(2.5 * scale))
    if len(path) > 1:
        draw.line(path, fill=colour, width=width, joint="curve")
    if upto is not None:
        x, y = scene.root_px[upto]
        r = 4.0 * scale
        draw.ellipse([x - r, y - r, x + r, y + r], outline=style.TRAJECTORY_DONE, width=max(1, round(1.5 * scale)))


def _capsule(draw: ImageDraw.ImageDraw, a: np.ndarray, b: np.ndarray, width: float, colour) -> None:
    """A thick line with round ends."""
    r = width / 2
    draw.line([tuple(a), tuple(b)], fill=colour, width=max(1, round(width)))
    for x, y in (a, b):
        draw.ellipse([x - r, y - r, x + r, y + r], fill=colour)


def draw_shadow(draw: ImageDraw.ImageDraw, scene: ProjectedScene, t: int, bones: list[Bone], scale: float) -> None:
    points = scene.shadow_px[t]
    ppm = scene.px_per_metre[t]
    for bone in bones:
        width = max(1.5 * scale, BONE_THICKNESS_M * 0.9 * (ppm[bone.parent] + ppm[bone.child]) / 2)
        _capsule(draw, points[bone.parent], points[bone.child], width, style.SHADOW)


def draw_figure(
    draw: ImageDraw.ImageDraw, scene: ProjectedScene, t: int, bones: list[Bone], head: int, scale: float
) -> None:
    """Bones and head back to front, each with an outline, faded and thinned with distance."""
    points, depth, ppm = scene.joints_px[t], scene.joint_depth[t], scene.px_per_metre[t]
    near, far = scene.depth_range
    span = max(far - near, 1e-6)
    outline_px = max(1.0, 1.2 * scale)

    items: list[tuple[float, str, object]] = [
        ((depth[b.parent] + depth[b.child]) / 2, "bone", b) for b in bones
    ]
    items.append((float(depth[head]), "head", None))
    items.sort(key=lambda item: -item[0])  # farthest first

    for item_depth, kind, bone in items:
        fade = JOINT_FADE * (item_depth - near) / span
        if kind == "bone":
            colour = style.mix(bone.colour, style.BACKGROUND, fade)
            edge = style.mix(style.mix(bone.colour, (0, 0, 0), 0.45), style.BACKGROUND, fade)
            width = max(2.0 * scale, BONE_THICKNESS_M * (ppm[bone.parent] + ppm[bone.child]) / 2)
            a, b = points[bone.parent], points[bone.child]
            _capsule(draw, a, b, width + 2 * outline_px, edge)
            _capsule(draw, a, b, width, colour)
        else:
            colour = style.mix(style.SPINE, style.BACKGROUND, fade)
            r = max(3.0 * scale, HEAD_RADIUS_M * ppm[head])
            x, y = points[head]
            draw.ellipse([x - r, y - r, x + r, y + r], fill=colour, outline=(20, 20, 24),
                         width=max(1, round(outline_px)))


def background(scene: ProjectedScene, scale: float) -> Image.Image:
    """The parts that never change: ground and the whole trajectory."""
    image = Image.new("RGB", scene.size, style.BACKGROUND)
    draw = ImageDraw.Draw(image)
    draw_ground(draw, scene)
    draw_trajectory(draw, scene, None, scale)
    return image


def draw_frame(base: Image.Image, scene: ProjectedScene, t: int, bones: list[Bone], head: int,
               scale: float) -> Image.Image:
    """A copy of `base` with frame `t` drawn over it."""
    image = base.copy()
    draw = ImageDraw.Draw(image)
    draw_shadow(draw, scene, t, bones, scale)
    draw_trajectory(draw, scene, t, scale)
    draw_figure(draw, scene, t, bones, head, scale)
    return image
