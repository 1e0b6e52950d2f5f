"""Rendering: GIF / MP4 animations and PNG storyboards of a motion (BVH export lives in render.bvh)."""

from .animation import prepare_joints, render_motion
from .renderer import MotionRenderer

__all__ = ["MotionRenderer", "prepare_joints", "render_motion"]
