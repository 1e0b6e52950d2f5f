"""Lay out one clip for drawing: floor, ground plane, camera, and every point projected to pixels once.

The camera orientation and the pixel scale are fixed for the whole clip (fixed axis limits, equal aspect). Animations
use one fixed view in which every joint of every frame and the whole ground plane fit; storyboards of a subject that
travels far may use a view that follows the root with the same scale in every panel (see `make_view`).
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from .camera import Camera, Viewport, fit_viewport, look_at

AZIMUTH_DEG = 35.0  # oblique: front-left of a subject facing +Z (its left side, +X, towards the camera)
ELEVATION_DEG = 25.0
GROUND_MARGIN_M = 0.4  # ground reaches this far beyond the motion's footprint
GRID_STEPS_M = (0.25, 0.5, 1.0, 2.0, 5.0, 10.0, 25.0)
MAX_CELLS_PER_SIDE = 12
FOLLOW_FLOOR_M = 1.25  # floor kept in view around the root by a following camera


def grid_step(extent_m: float) -> float:
    """The smallest nice grid step that keeps the checkerboard at most MAX_CELLS_PER_SIDE cells wide."""
    for step in GRID_STEPS_M:
        if extent_m / step <= MAX_CELLS_PER_SIDE:
            return step
    return float(np.ceil(extent_m / MAX_CELLS_PER_SIDE))


@dataclass(frozen=True)
class Ground:
    """A checkerboard square on the floor, snapped to whole grid cells in world coordinates."""

    floor: float
    xs: np.ndarray  # cell edges along X
    zs: np.ndarray  # cell edges along Z

    @classmethod
    def around(cls, joints: np.ndarray) -> "Ground":
        floor = float(joints[..., 1].min())
        low = joints[..., [0, 2]].reshape(-1, 2).min(axis=0) - GROUND_MARGIN_M
        high = joints[..., [0, 2]].reshape(-1, 2).max(axis=0) + GROUND_MARGIN_M
        step = grid_step(float((high - low).max()))
        low, high = np.floor(low / step) * step, np.ceil(high / step) * step
        xs = np.arange(low[0], high[0] + step / 2, step)
        zs = np.arange(low[1], high[1] + step / 2, step)
        return cls(floor=floor, xs=xs, zs=zs)

    def corners(self) -> np.ndarray:
        """(nz, nx, 3) world positions of every grid vertex."""
        x, z = np.meshgrid(self.xs, self.zs)
        return np.stack([x, np.full_like(x, self.floor), z], axis=-1)


@dataclass(frozen=True)
class View:
    """A camera and the pixel mapping of its image plane onto a canvas of `size` pixels."""

    camera: Camera
    viewport: Viewport
    size: tuple[int, int]

    def shifted(self, offset: np.ndarray) -> "View":
        """The same view with the camera moved by `offset` metres: it follows the subject, scale unchanged."""
        return replace(self, camera=replace(self.camera, eye=self.camera.eye + offset))


def root_offsets(joints: np.ndarray) -> np.ndarray:
    """(T, 3) horizontal root position per frame (y = 0): what a following camera moves by."""
    offsets = joints[:, 0].copy()
    offsets[:, 1] = 0.0
    return offsets


def make_view(joints: np.ndarray, ground: Ground, width: int, max_height: int, margin: float, *,
              min_height: int = 0, height_multiple: int = 1, follow: bool = False) -> View:
    """A camera fixed for the whole clip, and a canvas `width` wide whose height follows the content (a clip that
    travels sideways gives a wide, low picture), between `min_height` and `max_height`, rounded to
    `height_multiple`.

    Fixed (default): every joint of every frame and the whole ground fit. follow=True: the scale fits the body
    as seen around its own root plus a patch of floor, for a camera that `View.shifted` moves with the root; it
    keeps a travelling subject large in storyboard panels.
    """
    corners = ground.corners()
    low = np.minimum(joints.reshape(-1, 3).min(axis=0), corners.reshape(-1, 3).min(axis=0))
    high = np.maximum(joints.reshape(-1, 3).max(axis=0), corners.reshape(-1, 3).max(axis=0))
    # Far enough for a mild perspective (depth cue without distortion) and, whichever frame a following camera
    # centres on, with the whole ground in front of it.
    distance = 2.2 * float(np.linalg.norm(high - low) / 2) + 2.5
    if follow:
        body = joints - root_offsets(joints)[:, None]
        patch = FOLLOW_FLOOR_M * np.array([[-1, 0, -1], [-1, 0, 1], [1, 0, 1], [1, 0, -1]], dtype=np.float64)
        patch[:, 1] = ground.floor
        points = np.concatenate([body.reshape(-1, 3), patch])
    else:
        points = np.concatenate([joints.reshape(-1, 3), corners.reshape(-1, 3)])
    target = (points.min(axis=0) + points.max(axis=0)) / 2
    camera = look_at(target, azimuth_deg=AZIMUTH_DEG, elevation_deg=ELEVATION_DEG, distance=distance)
    viewport, height = fit_viewport(camera.project(points)[0], width, max_height, margin,
                                    min_height=min_height, height_multiple=height_multiple)
    return View(camera=camera, viewport=viewport, size=(width, height))


@dataclass(frozen=True)
class ProjectedScene:
    """Everything the drawing code needs, in pixels of a canvas of `size`."""

    size: tuple[int, int]
    joints_px: np.ndarray  # (T, J, 2)
    joint_depth: np.ndarray  # (T, J) metres from the camera
    px_per_metre: np.ndarray  # (T, J) pixel size of one metre at each joint (perspective)
    shadow_px: np.ndarray  # (T, J, 2) joints dropped onto the floor
    root_px: np.ndarray  # (T, 2) root trajectory on the floor
    grid_px: np.ndarray  # (nz, nx, 2) ground vertices
    depth_range: tuple[float, float]


def project_scene(joints: np.ndarray, ground: Ground, view: View) -> ProjectedScene:
    """Project joints, their shadows, the root trajectory and the ground through `view`."""
    camera, viewport = view.camera, view.viewport
    joints_plane, joint_depth = camera.project(joints)
    shadows = joints.copy()
    shadows[..., 1] = ground.floor
    shadow_plane, _ = camera.project(shadows)
    grid_plane, _ = camera.project(ground.corners())
    return ProjectedScene(
        size=view.size,
        joints_px=viewport.to_pixels(joints_plane),
        joint_depth=joint_depth,
        px_per_metre=viewport.scale / joint_depth,
        shadow_px=viewport.to_pixels(shadow_plane),
        root_px=viewport.to_pixels(shadow_plane[:, 0]),
        grid_px=viewport.to_pixels(grid_plane),
        depth_range=(float(joint_depth.min()), float(joint_depth.max())),
    )
