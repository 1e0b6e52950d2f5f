"""Rendering: GIF / MP4 animations and PNG storyboards of a motion (BVH export lives in render.bvh)."""

from .animation import MotionRenderer, prepare_joints, render_motion

__all__ = ["MotionRenderer", "prepare_joints", "render_motion"]
