"""The built-in dataset: procedural, body-part-compositional human motions with natural captions.

`synthesize(out_dir, n_motions, seed)` writes a complete HumanML3D-layout folder; see docs/builtin-dataset.md.
Modules: actions (inventory and descriptions), compose (sampling with a long tail), rig/pose/track (skeleton and
channels -> joints), gait and lower (root and leg actions), upper (arm and torso actions), animate (description ->
joints), captions and tagger (text and its token/POS field), quality (skating, penetration, bone lengths), build.
"""

from .actions import Action, MotionSpec, Segment
from .build import RARE_THRESHOLD, synthesize

__all__ = ["Action", "MotionSpec", "RARE_THRESHOLD", "Segment", "synthesize"]
