"""AMASS SMPL-H parameters -> joint positions, as HumanML3D's raw_pose_processing does (its first step).

For one AMASS `.npz` (poses (T, 156), trans (T, 3), betas, gender, mocap_framerate): every int(fps / 20)-th frame,
the gendered SMPL-H body model (the `smplx` package; 10 shape coefficients; root, body and hand axis-angles, the
translation) gives the skeleton's 52 joints, and the axes are swapped from AMASS's z-up to y-up (x, y, z) -> (x, z, y).
Choices of the reference kept on purpose, so the data equals the published one:
- the frame step is int(fps / 20): 59.94 fps gives every 2nd frame (29.97 fps), 250 fps every 12th;
- the male model is used when `gender` is the string 'male', the female model otherwise (neutral included);
- the joints are the skeleton joints (human_body_prior's Jtr), not vertex keypoints; DMPL soft-tissue coefficients
  do not move joints and are not used.

Body models: `DIR/smplh/{male,female}/model.npz` (the "extended SMPL+H" files AMASS uses, as the reference expects
them) or `DIR/{male,female}/model.npz`. Only the arrays the model needs are read, without unpickling.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import UserInputError

TARGET_FPS = 20
NUM_BETAS = 10
Z_UP_TO_Y_UP = np.array([[1.0, 0.0, 0.0], [0.0, 0.0, 1.0], [0.0, 1.0, 0.0]])
GENDERS = ("male", "female")
MODEL_LAYOUTS = ("smplh/{gender}/model.npz", "{gender}/model.npz")
MODEL_ARRAYS = ("v_template", "shapedirs", "posedirs", "J_regressor", "kintree_table", "weights", "f",
                "hands_componentsl", "hands_componentsr", "hands_meanl", "hands_meanr")  # fmt: skip
AMASS_ARRAYS = ("poses", "trans", "betas", "gender", "mocap_framerate")


def body_model_files(directory: str | os.PathLike) -> dict[str, Path]:
    """gender -> model file; one sentence naming what is missing."""
    directory = Path(directory)
    found = {}
    for gender in GENDERS:
        candidates = [directory / layout.format(gender=gender) for layout in MODEL_LAYOUTS]
        path = next((p for p in candidates if p.is_file()), None)
        if path is None:
            raise UserInputError(
                f"no {gender} SMPL-H body model in '{directory}': expected {candidates[0]} (AMASS's extended SMPL+H "
                "model, from the MANO downloads)."
            )
        found[gender] = path
    return found


def _skeleton_joints_class():
    from torch import nn

    class SkeletonJoints(nn.Module):
        """Stands in for smplx's vertex-keypoint selector: the reference uses the skeleton joints only."""

        def forward(self, vertices, joints):
            return joints

    return SkeletonJoints


def load_body_model(path: str | os.PathLike):
    """An smplx SMPL-H model from an AMASS-style model.npz (full hand poses, no PCA, no hand mean)."""
    import smplx
    import torch
    from smplx.utils import Struct

    try:
        with np.load(path, allow_pickle=False) as data:
            arrays = {key: np.asarray(data[key]) for key in MODEL_ARRAYS}
    except KeyError as error:
        raise UserInputError(f"body model '{path}' lacks the array {error} of an SMPL-H model file.") from None
    except (OSError, ValueError) as error:
        raise UserInputError(f"body model '{path}' cannot be read as an SMPL-H .npz ({error}).") from None
    model = smplx.SMPLH(
        model_path=str(path), data_struct=Struct(**arrays), use_pca=False, flat_hand_mean=True,
        num_betas=NUM_BETAS, create_transl=True, dtype=torch.float32,
    )  # fmt: skip
    model.vertex_joint_selector = _skeleton_joints_class()()
    return model.eval()


def read_amass(path: str | os.PathLike) -> dict[str, Any] | None:
    """The arrays of one AMASS file; None for a file without a frame rate (the subjects' shape.npz), which the
    reference skips too."""
    try:
        with np.load(path, allow_pickle=False) as data:
            if "mocap_framerate" not in data.files:
                return None
            values = {key: np.asarray(data[key]) for key in AMASS_ARRAYS}
    except KeyError as error:
        raise UserInputError(f"AMASS file '{path}' lacks the array {error}.") from None
    except (OSError, ValueError) as error:
        raise UserInputError(f"AMASS file '{path}' cannot be read ({error}).") from None
    poses = values["poses"]
    if poses.ndim != 2 or poses.shape[1] < 66 or len(values["trans"]) != len(poses):
        raise UserInputError(f"AMASS file '{path}' has poses {poses.shape} and trans {values['trans'].shape}, expected (T, 156) and (T, 3).")
    return values


def gender_of(value: np.ndarray) -> str:
    """The reference's rule: the male model for the string 'male', the female model for anything else."""
    item = value.item() if isinstance(value, np.ndarray) else value
    return "male" if isinstance(item, str) and item == "male" else "female"


def frame_step(fps: float) -> int:
    return max(1, int(fps / TARGET_FPS))


def amass_joints(values: dict[str, Any], model) -> np.ndarray:
    """(T', 52, 3) y-up joint positions at the reference's 20 fps (see module docstring)."""
    import torch

    step = frame_step(float(values["mocap_framerate"]))
    poses = torch.as_tensor(values["poses"][::step], dtype=torch.float32)
    trans = torch.as_tensor(values["trans"][::step], dtype=torch.float32)
    count = len(poses)
    betas = torch.as_tensor(values["betas"][:NUM_BETAS], dtype=torch.float32).expand(count, -1)
    hands = poses[:, 66:156] if poses.shape[1] >= 156 else torch.zeros(count, 90)
    with torch.no_grad():
        out = model(
            global_orient=poses[:, :3], body_pose=poses[:, 3:66], left_hand_pose=hands[:, :45],
            right_hand_pose=hands[:, 45:], betas=betas, transl=trans,
        )  # fmt: skip
    return out.joints[:, :52].numpy().astype(np.float64) @ Z_UP_TO_Y_UP
