"""Uploaded motions: a .npy file's bytes -> validated features and joints, without pickle and without disk.

The .npy header is read and checked before any array memory is allocated: numpy would otherwise allocate whatever
shape a (possibly hostile) header declares before noticing that the data is missing.
"""

from __future__ import annotations

import io

import numpy as np

from ..errors import UserInputError

NPY_MAGIC = b"\x93NUMPY"
MIN_FRAMES = 4  # the captioner needs at least one motion token


def read_npy_bytes(data: bytes, *, name: str = "uploaded motion") -> np.ndarray:
    """A numeric array from the bytes of a .npy file (no pickle, header checked against the data size)."""
    from numpy.lib import format as npy_format

    if not data:
        raise UserInputError(f"{name} is empty; send the bytes of a .npy file.")
    if not data.startswith(NPY_MAGIC):
        raise UserInputError(f"{name} is not a .npy file (it does not start with the NumPy magic string).")
    stream = io.BytesIO(data)
    try:
        version = npy_format.read_magic(stream)
        if version == (1, 0):
            shape, fortran, dtype = npy_format.read_array_header_1_0(stream)
        elif version in ((2, 0), (3, 0)):
            shape, fortran, dtype = npy_format.read_array_header_2_0(stream)
        else:
            raise ValueError(f"unsupported .npy version {version}")
    except ValueError as error:
        raise UserInputError(f"{name} has an unreadable .npy header ({error}).") from None
    if dtype.hasobject or dtype.kind not in "fiu":
        raise UserInputError(f"{name} holds dtype {dtype}, expected real numbers (float or int).")
    count = int(np.prod(shape, dtype=np.int64)) if shape else 1
    expected = count * dtype.itemsize
    available = len(data) - stream.tell()
    if available != expected:
        raise UserInputError(
            f"{name} declares shape {tuple(shape)} of {dtype} ({expected} bytes) but holds {available} bytes of data."
        )
    try:
        array = np.load(io.BytesIO(data), allow_pickle=False)
    except (ValueError, OSError, EOFError) as error:
        raise UserInputError(f"{name} is not a readable .npy array ({error}).") from None
    return array


def motion_from_upload(data: bytes, *, feature_dim: int, max_frames: int, name: str = "uploaded motion"):
    """(features (T, D) float32, joints (T', J, 3) float32) of an uploaded features or joints .npy file.

    Joints are turned into features the way HumanML3D's processing does (floor, facing +Z, retargeted skeleton);
    the joints returned are the ones recovered from those features, i.e. the motion the model sees.
    """
    from ..motion.features import features_to_joints, motion_to_features

    array = read_npy_bytes(data, name=name)
    if array.ndim >= 1 and len(array) > max_frames + 1:  # +1: joints give one frame fewer as features
        raise UserInputError(f"{name} has {len(array)} frames; at most {max_frames} are accepted.")
    array = array.astype(np.float32, copy=False)
    features = motion_to_features(array, where=name, feature_dim=feature_dim)
    if len(features) > max_frames:
        raise UserInputError(f"{name} has {len(features)} frames; at most {max_frames} are accepted.")
    if len(features) < MIN_FRAMES:
        raise UserInputError(f"{name} has {len(features)} frames; at least {MIN_FRAMES} are needed.")
    features = np.ascontiguousarray(features, dtype=np.float32)
    joints = features_to_joints(features, where=name).astype(np.float32)
    if not np.isfinite(joints).all():
        raise UserInputError(f"{name} decodes to non-finite joint positions.")
    return features, joints
