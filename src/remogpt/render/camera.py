"""A fixed pinhole camera and the map from its image plane to canvas pixels.

We project the 3D joints ourselves instead of using matplotlib's 3D axes: one vectorised projection for the whole
clip, then plain 2D drawing, which is several times faster and gives the same picture every frame.
World convention (HumanML3D): metres, Y up, the subject faces +Z at frame 0 and its left side is +X.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

WORLD_UP = np.array([0.0, 1.0, 0.0])


@dataclass(frozen=True)
class Camera:
    """A perspective camera: `eye` position and an orthonormal right-handed basis (right, up, forward)."""

    eye: np.ndarray
    right: np.ndarray
    up: np.ndarray
    forward: np.ndarray

    def project(self, points: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Points (..., 3) -> image-plane coordinates (..., 2) (x right, y up, focal length 1) and depth (...)."""
        relative = np.asarray(points, dtype=np.float64) - self.eye
        depth = relative @ self.forward
        plane = np.stack([relative @ self.right, relative @ self.up], axis=-1) / depth[..., None]
        return plane, depth


def look_at(target: np.ndarray, *, azimuth_deg: float, elevation_deg: float, distance: float) -> Camera:
    """A camera `distance` metres from `target`, looking at it.

    Azimuth turns the camera about +Y starting from +Z (in front of a subject facing +Z) towards +X; elevation
    lifts it above the horizon. right = forward x up, so +X lands on the screen's right when seen from the front
    (the subject's left appears on the viewer's right, as when facing a person): the picture is never mirrored.
    """
    azimuth, elevation = np.radians(azimuth_deg), np.radians(elevation_deg)
    towards_eye = np.array(
        [np.cos(elevation) * np.sin(azimuth), np.sin(elevation), np.cos(elevation) * np.cos(azimuth)]
    )
    eye = np.asarray(target, dtype=np.float64) + distance * towards_eye
    forward = -towards_eye
    right = np.cross(forward, WORLD_UP)
    right /= np.linalg.norm(right)
    up = np.cross(right, forward)
    return Camera(eye=eye, right=right, up=up, forward=forward)


@dataclass(frozen=True)
class Viewport:
    """Image plane -> pixels: uniform scale (equal aspect) and an offset; pixel y grows downwards."""

    scale: float
    center_x: float
    center_y: float
    plane_center: tuple[float, float]

    def to_pixels(self, plane: np.ndarray) -> np.ndarray:
        x = self.center_x + self.scale * (plane[..., 0] - self.plane_center[0])
        y = self.center_y - self.scale * (plane[..., 1] - self.plane_center[1])
        return np.stack([x, y], axis=-1)


def fit_viewport(plane_points: np.ndarray, width: float, max_height: float, margin: float,
                 min_height: float = 0.0, height_multiple: int = 1) -> tuple[Viewport, int]:
    """The largest uniform scale that fits every image-plane point into `width` x at most `max_height` pixels
    with `margin` pixels around, and the canvas height that the content actually needs (at least `min_height`,
    rounded up to `height_multiple`)."""
    flat = plane_points.reshape(-1, 2)
    low, high = flat.min(axis=0), flat.max(axis=0)
    span = np.maximum(high - low, 1e-9)
    scale = min((width - 2 * margin) / span[0], (max_height - 2 * margin) / span[1])
    height = max(min_height, min(max_height, span[1] * scale + 2 * margin))
    height = int(np.ceil(height / height_multiple) * height_multiple)
    center = (low + high) / 2
    viewport = Viewport(scale=float(scale), center_x=width / 2, center_y=height / 2,
                        plane_center=(float(center[0]), float(center[1])))
    return viewport, height
