"""The HumanML3D motion representation (numpy only): skeleton, features, body parts, statistics, mirroring."""

from .features import (
    as_joints,
    feature_dim,
    feature_groups,
    features_to_joints,
    is_feature_array,
    joints_to_features,
    motion_to_joints,
)
from .parts import BODY_PART_NAMES, body_part_dims
from .skeleton import HUMANML3D, KIT, Skeleton, skeleton_for
from .stats import denormalize, mean_std, normalize, renormalize

__all__ = [
    "BODY_PART_NAMES", "HUMANML3D", "KIT", "Skeleton", "as_joints", "body_part_dims", "denormalize", "feature_dim",
    "feature_groups", "features_to_joints", "is_feature_array", "joints_to_features", "mean_std",
    "motion_to_joints", "normalize", "renormalize", "skeleton_for",
]
