"""List every problem of a HumanML3D-layout folder, so a user can fix their data before training on it.

Fast on a 30 000-file folder: .npy headers are parsed directly (shape, dtype, and whether the file holds all the
bytes the header promises), data is read once for the NaN/inf test, and files are inspected in a thread pool
(file reads release the GIL).
"""

from __future__ import annotations

import math
import os
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..errors import UserInputError
from .folder import (
    FORMATS,
    FORMATS_BY_JOINTS,
    MEAN_FILE,
    STANDARD_SPLITS,
    STD_FILE,
    DatasetFormat,
    Layout,
    detect_layout,
    files_under,
    parse_caption_line,
)

REQUIRED_SPLITS = ("train", "val", "test")


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a dataset folder. kind groups problems for the summary (see KINDS)."""

    path: Path
    message: str
    kind: str = "other"

    def __str__(self) -> str:
        return f"{self.path}: {self.message}"


KINDS = {
    "missing": "missing folders or files",
    "empty": "empty files",
    "truncated": "truncated or unreadable .npy files",
    "dtype": "non-numeric arrays",
    "shape": "wrong shapes",
    "frames": "frame counts that disagree",
    "nonfinite": "NaN or infinite values",
    "caption": "malformed or empty captions",
    "split": "split file problems",
    "stats": "Mean/Std problems",
    "orphan": "files without a motion",
}


@dataclass
class _Npy:
    """What one .npy file holds, or why it cannot be read."""

    shape: tuple[int, ...] | None = None
    problems: list[Problem] = field(default_factory=list)


def _read_header(handle) -> tuple[tuple[int, ...], np.dtype]:
    version = np.lib.format.read_magic(handle)
    if version == (1, 0):
        shape, _, dtype = np.lib.format.read_array_header_1_0(handle)
    elif version == (2, 0):
        shape, _, dtype = np.lib.format.read_array_header_2_0(handle)
    else:  # version 3 (utf-8 header) has no public reader
        shape, _, dtype = np.lib.format._read_array_header(handle, version)
    return tuple(shape), dtype


def inspect_npy(path: Path, what: str) -> _Npy:
    """Header, size and finiteness of one .npy file; never raises for a bad file."""
    result = _Npy()

    def bad(kind: str, message: str) -> _Npy:
        result.problems.append(Problem(path, message, kind))
        return result

    try:
        size = path.stat().st_size
        if size == 0:
            return bad("empty", f"{what} file is empty (0 bytes).")
        with open(path, "rb") as handle:
            try:
                shape, dtype = _read_header(handle)
            except (ValueError, EOFError, SyntaxError) as error:
                return bad("truncated", f"{what} file is not a readable .npy file ({error}).")
            if dtype.hasobject or not np.issubdtype(dtype, np.number):
                return bad("dtype", f"{what} file holds dtype {dtype}, expected float32 numbers.")
            count = math.prod(shape)
            expected = handle.tell() + count * dtype.itemsize
            if size < expected:
                return bad("truncated", f"{what} file is truncated: {size} bytes, its header promises {expected}.")
            result.shape = shape
            data = np.fromfile(handle, dtype=dtype, count=count)
    except OSError as error:
        return bad("truncated", f"{what} file cannot be read ({error.strerror or error}).")
    finite = np.isfinite(data)
    if not finite.all():
        where = int(np.argmin(finite)) // max(1, math.prod(shape[1:]))
        bad("nonfinite", f"{what} contain {int((~finite).sum())} NaN or infinite values (first at frame {where}).")
    return result


def _check_captions(path: Path, fps: float | None, frames: int | None, plain: bool = False) -> list[Problem]:
    problems: list[Problem] = []
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except UnicodeDecodeError:
        return [Problem(path, "caption file is not UTF-8 text.", "caption")]
    except OSError as error:
        return [Problem(path, f"caption file cannot be read ({error.strerror or error}).", "missing")]
    if not lines:
        return [Problem(path, "caption file is empty, expected one caption per line.", "empty")]
    for number, line in enumerate(lines, 1):
        if not line.strip():
            problems.append(Problem(path, f"line {number} is blank.", "caption"))
            continue
        try:
            caption = parse_caption_line(line, line_number=number, source=path.name, plain=plain)
        except UserInputError as error:
            problems.append(Problem(path, str(error), "caption"))
            continue
        if not caption.tokens:
            problems.append(Problem(path, f"line {number} has no word/POS tokens.", "caption"))
        if fps and frames is not None and not caption.is_whole_clip and int(caption.start * fps) >= frames:
            problems.append(
                Problem(
                    path,
                    f"line {number} starts at {caption.start} s (frame {int(caption.start * fps)}), "
                    f"after the clip ends ({frames} frames).",
                    "caption",
                )
            )
    return problems


def _listing(directory: Path | None, suffix: str, nested: bool = False) -> dict[str, Path]:
    """id -> path of the visible files with a suffix (hidden files are temporaries, not ids); `nested`: ids may
    name sub-folders (Motion-X's 'humanml/000001')."""
    if directory is None or not directory.is_dir():
        return {}
    if nested:
        return dict(files_under(directory, suffix))
    with os.scandir(directory) as entries:
        return {
            e.name[: -len(suffix)]: Path(e.path)
            for e in entries
            if e.name.endswith(suffix) and not e.name.startswith(".") and e.is_file()
        }


def _majority_format(shapes: list[tuple[int, ...]], joints_shapes: list[tuple[int, ...]], mean: Path) -> DatasetFormat | None:
    widths = Counter(s[1] for s in shapes if len(s) == 2 and s[1] in FORMATS)
    if widths:
        return FORMATS[widths.most_common(1)[0][0]]
    joints = Counter(s[1] for s in joints_shapes if len(s) == 3 and s[1] in FORMATS_BY_JOINTS)
    if joints:
        return FORMATS_BY_JOINTS[joints.most_common(1)[0][0]]
    if mean.is_file():
        info = inspect_npy(mean, "Mean")
        if info.shape and info.shape[-1] in FORMATS:
            return FORMATS[info.shape[-1]]
    return None


def _check_stats(root: Path, fmt: DatasetFormat | None) -> list[Problem]:
    problems: list[Problem] = []
    for name in (MEAN_FILE, STD_FILE):
        path = root / name
        if not path.is_file():
            problems.append(Problem(path, f"{name} is missing (write it with `remogpt data stats`).", "missing"))
            continue
        info = inspect_npy(path, name[:-4])
        problems += info.problems
        if info.shape is None:
            continue
        expected = (fmt.feature_dim,) if fmt else None
        if len(info.shape) != 1 or (expected and info.shape != expected) or info.shape[0] not in FORMATS:
            want = f"({fmt.feature_dim},)" if fmt else "(263,) or (251,)"
            problems.append(Problem(path, f"{name} has shape {info.shape}, expected {want}.", "stats"))
            continue
        if name == STD_FILE and not info.problems:
            std = np.load(path, allow_pickle=False)
            if (std <= 0).any():
                problems.append(
                    Problem(path, f"Std.npy has {int((std <= 0).sum())} zero or negative entries, expected std > 0.", "stats")
                )
    return problems


def _check_split(path: Path, features: dict[str, Path], have_features_dir: bool, features_dir: str) -> list[Problem]:
    problems: list[Problem] = []
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (UnicodeDecodeError, OSError) as error:
        return [Problem(path, f"split file cannot be read ({error}).", "split")]
    ids = [line.strip() for line in lines if line.strip()]
    if not ids:
        return [Problem(path, "split file lists no ids.", "split")]
    for motion_id, count in Counter(ids).items():
        if count > 1:
            problems.append(Problem(path, f"id '{motion_id}' is listed {count} times.", "split"))
    if have_features_dir:  # without the folder every id would be missing: one problem says it already
        for motion_id in dict.fromkeys(ids):
            if motion_id not in features:
                problems.append(
                    Problem(path, f"id '{motion_id}' has no feature file {features_dir}/{motion_id}.npy.", "split")
                )
    return problems


def check_folder(root: str | os.PathLike, *, workers: int | None = None) -> list[Problem]:
    """Every problem found in a HumanML3D-layout folder (an empty list means the folder is clean).

    Required: new_joint_vecs/, texts/, Mean.npy, Std.npy, train/val/test.txt. new_joints/, all.txt and
    train_val.txt are optional, but checked when present. A Motion-X folder is checked in its own layout
    (folder.detect_layout; `layout_notes` says how it differs). Raises UserInputError if ROOT is not a folder.
    """
    root = Path(root)
    if not root.is_dir():
        raise UserInputError(f"dataset folder '{root}' does not exist or is not a folder.")
    layout = detect_layout(root)
    features_dir, joints_dir, texts_dir = layout.features_dir, layout.joints_dir, layout.texts_dir
    problems: list[Problem] = []
    for folder in (features_dir, texts_dir):
        if not (root / folder).is_dir():
            problems.append(Problem(root / folder, f"the {folder}/ folder is missing.", "missing"))

    nested = layout.nested_ids
    features = _listing(root / features_dir, ".npy", nested)
    joints = _listing(root / joints_dir if joints_dir else None, ".npy", nested)
    texts = _listing(root / texts_dir, ".txt", nested)
    workers = workers or min(16, 4 * (os.cpu_count() or 1))

    # Pass 1: every array file (header, size, NaN/inf), in parallel.
    with ThreadPoolExecutor(max_workers=workers) as pool:
        feature_info = dict(zip(features, pool.map(lambda p: inspect_npy(p, "features"), features.values())))
        joint_info = dict(zip(joints, pool.map(lambda p: inspect_npy(p, "joints"), joints.values())))
    fmt = _majority_format(
        [i.shape for i in feature_info.values() if i.shape], [i.shape for i in joint_info.values() if i.shape],
        root / MEAN_FILE,
    )

    frames: dict[str, int] = {}  # frame counts of well-formed feature files, to compare joints and spans with
    for motion_id in sorted(features):
        info = feature_info[motion_id]
        problems += info.problems
        path = features[motion_id]
        if info.shape is not None:
            shape = info.shape
            if len(shape) != 2 or shape[0] == 0 or (fmt and shape[1] != fmt.feature_dim) or shape[1] not in FORMATS:
                want = f"(T, {fmt.feature_dim})" if fmt else "(T, 263) or (T, 251)"
                problems.append(Problem(path, f"features have shape {shape}, expected {want} with T > 0.", "shape"))
            else:
                frames[motion_id] = shape[0]
        if motion_id not in texts and (root / texts_dir).is_dir():
            problems.append(Problem(path, f"motion has no caption file {texts_dir}/{motion_id}.txt.", "missing"))
        if joints and motion_id not in joints:
            problems.append(Problem(path, f"motion has no joints file {joints_dir}/{motion_id}.npy.", "missing"))

    for motion_id in sorted(joints):
        info = joint_info[motion_id]
        problems += info.problems
        path = joints[motion_id]
        if info.shape is None:
            continue
        shape = info.shape
        if len(shape) != 3 or shape[2] != 3 or shape[0] == 0 or (fmt and shape[1] != fmt.num_joints) or (
            shape[1] not in FORMATS_BY_JOINTS
        ):
            want = f"(T, {fmt.num_joints}, 3)" if fmt else "(T, 22, 3) or (T, 21, 3)"
            problems.append(Problem(path, f"joints have shape {shape}, expected {want} with T > 0.", "shape"))
        elif motion_id not in features:
            if (root / features_dir).is_dir():  # a missing folder is one problem, already reported
                problems.append(Problem(path, f"joints file has no feature file {features_dir}/{motion_id}.npy.", "orphan"))
        elif motion_id in frames and frames[motion_id] != shape[0]:
            problems.append(
                Problem(path, f"joints have {shape[0]} frames but the features have {frames[motion_id]}.", "frames")
            )

    # Pass 2: captions (frame counts let us flag spans that start after the clip).
    def caption_problems(motion_id: str) -> list[Problem]:
        return _check_captions(texts[motion_id], fmt.fps if fmt else None, frames.get(motion_id), layout.plain_captions)

    caption_ids = sorted(texts)
    with ThreadPoolExecutor(max_workers=workers) as pool:
        for motion_id, found in zip(caption_ids, pool.map(caption_problems, caption_ids)):
            problems += found
            if motion_id not in features and (root / features_dir).is_dir():
                problems.append(
                    Problem(texts[motion_id], f"caption file has no feature file {features_dir}/{motion_id}.npy.", "orphan")
                )

    problems += _check_stats(root, fmt)
    for split in STANDARD_SPLITS:
        path = root / f"{split}.txt"
        if path.is_file():
            problems += _check_split(path, features, (root / features_dir).is_dir(), features_dir)
        elif split in REQUIRED_SPLITS:
            problems.append(Problem(path, f"split file {split}.txt is missing.", "missing"))
    return problems


def layout_notes(root: str | os.PathLike) -> list[str]:
    """How the folder's layout differs from HumanML3D's (empty for HumanML3D, KIT-ML and the built-in dataset)."""
    layout: Layout = detect_layout(root)
    return [f"{layout.name} layout: {difference}." for difference in layout.differences]


def summarize(problems: list[Problem]) -> str:
    """One line: how many problems of each kind."""
    if not problems:
        return "no problems found"
    counts = Counter(p.kind for p in problems)
    parts = ", ".join(f"{n} {KINDS.get(kind, kind)}" for kind, n in counts.most_common())
    return f"{len(problems)} problem{'s' if len(problems) != 1 else ''}: {parts}"
