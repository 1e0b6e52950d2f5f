"""Draw single frames of one clip: the fixed camera, the static background, and the figure at frame t."""

from __future__ import annotations

import numpy as np
from PIL import Image

from .draw import background, draw_frame
from .scene import Ground, ProjectedScene, make_view, project_scene, root_offsets
from .style import skeleton_bones

SUPERSAMPLE = 2  # draw at 2x and downsample: antialiased lines at a fraction of matplotlib's cost
REFERENCE_WIDTH = 480  # line widths and marker sizes are tuned for this width and scale with the picture
FOLLOW_GAIN = 1.6  # storyboards follow the subject when that shows it this much larger


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
        self.scale = ss * width / REFERENCE_WIDTH
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
