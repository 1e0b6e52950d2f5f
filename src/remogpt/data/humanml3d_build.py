"""`remogpt data build humanml3d`: HumanML3D's preparation from AMASS as one resumable, parallel command.

The reference is three notebooks (raw_pose_processing, motion_representation, cal_mean_variance); here:
1. every AMASS file index.csv names goes through the SMPL-H body model at 20 fps (data/amass.py);
2. per index.csv row, the reference's per-dataset head trims (Eyes_Japan_Dataset and MPI_HDM05 3 s, TotalCapture and
   MPI_Limits 1 s, Transitions_mocap 0.5 s), the crop [start_frame, end_frame), the x negation, and the mirrored
   copy "M" + id (x negated again, left and right joints swapped); HumanAct12 rows (joints shipped by the reference,
   `--humanact12 DIR`) are taken whole and not negated, as the reference does;
3. the project's exact feature extraction (joints_to_features: HumanML3D's process_file on the first 22 joints,
   retargeted to the target skeleton) and the joints decoded back from the features (new_joints);
4. the texts (HumanML3D's texts/, with their word/POS fields) and the official splits copied for the built ids,
   then Mean/Std of the train split with HumanML3D's per-group averaging.

Rows whose source is absent (an AMASS sub-dataset not downloaded, a missing file) are listed in the summary and in
build.json, not fatal. Clips whose outputs exist are skipped, so an interrupted build resumes.
"""

from __future__ import annotations

import csv
import os
import time
from collections import Counter, defaultdict
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np

from ..errors import UserInputError

HEAD_TRIMS = {"Eyes_Japan_Dataset": 3.0, "MPI_HDM05": 3.0, "TotalCapture": 1.0, "MPI_Limits": 1.0, "Transitions_mocap": 0.5}
HUMANACT12 = "humanact12"
# index.csv names AMASS sub-datasets as they were in 2020; AMASS's download page names some differently now. A
# folder under the index's name is used first, then one under the current name (use the SMPL+H G downloads).
AMASS_RENAMES = {
    "BioMotionLab_NTroje": "BMLrub", "DFaust_67": "DFaust", "MPI_HDM05": "HDM05", "MPI_Limits": "PosePrior",
    "MPI_mosh": "MoSh", "SSM_synced": "SSM", "Transitions_mocap": "Transitions",
}
SPLITS = ("train", "val", "test", "all", "train_val")
BUILD_REPORT = "build.json"


@dataclass(frozen=True)
class IndexRow:
    source: str  # the reference's pose_data path, e.g. ./pose_data/KIT/3/kick_high_left02_poses.npy
    start: int
    end: int
    name: str  # the clip id, e.g. 000000

    @property
    def parts(self) -> tuple[str, ...]:
        parts = Path(self.source).parts
        return parts[parts.index("pose_data") + 1 :] if "pose_data" in parts else parts

    @property
    def dataset(self) -> str:
        return self.parts[0]

    @property
    def is_humanact12(self) -> bool:
        return HUMANACT12 in self.source

    def amass_path(self, amass: Path) -> Path:
        dataset, *rest = self.parts
        if not (amass / dataset).is_dir() and (amass / AMASS_RENAMES.get(dataset, dataset)).is_dir():
            dataset = AMASS_RENAMES[dataset]
        return amass.joinpath(dataset, *rest).with_suffix(".npz")

    def humanact12_path(self, directory: Path) -> Path:
        return directory / Path(self.source).name


def read_index(path: str | os.PathLike) -> list[IndexRow]:
    path = Path(path)
    if not path.is_file():
        raise UserInputError(f"index '{path}' does not exist (HumanML3D's index.csv).")
    with open(path, newline="", encoding="utf-8") as handle:
        reader = csv.DictReader(handle)
        expected = {"source_path", "start_frame", "end_frame", "new_name"}
        if not reader.fieldnames or not expected <= set(reader.fieldnames):
            raise UserInputError(f"index '{path}' has columns {reader.fieldnames}, expected {sorted(expected)}.")
        try:
            return [
                IndexRow(row["source_path"], int(row["start_frame"]), int(row["end_frame"]), Path(row["new_name"]).stem)
                for row in reader
            ]
        except ValueError as error:
            raise UserInputError(f"index '{path}' line {reader.line_num}: {error}.") from None


def crop(joints: np.ndarray, row: IndexRow, fps: int = 20) -> np.ndarray:
    """The reference's per-row processing of one source's joints (before mirroring)."""
    if row.is_humanact12:
        return joints  # taken whole, not negated (the reference's if-block skips it)
    trim = next((seconds for name, seconds in HEAD_TRIMS.items() if name in row.source), 0.0)
    data = joints[int(trim * fps) :][row.start : row.end].copy()
    data[..., 0] *= -1
    return data


# ------------------------------------------------------------------------------------------------- one source
_MODELS: dict[str, object] = {}


def _model(path: str):
    from .amass import load_body_model

    if path not in _MODELS:
        _MODELS[path] = load_body_model(path)
    return _MODELS[path]


def _source_joints(job: dict) -> np.ndarray | None:
    from .amass import amass_joints, gender_of, read_amass

    if job["humanact12"]:
        return np.load(job["path"], allow_pickle=False)
    values = read_amass(job["path"])
    if values is None:
        return None
    return amass_joints(values, _model(job["models"][gender_of(values["gender"])]))


def _build_source(job: dict) -> list[tuple[str, str]]:
    """Every clip of one source file: (clip id, "" when written, else why not)."""
    import torch

    torch.set_num_threads(1)
    from ..motion.features import features_to_joints, joints_to_features
    from ..motion.mirror import mirror_joints  # the reference's swap_left_right on the 22 body joints
    from .folder import write_motion

    joints = _source_joints(job)
    results = []
    for row in job["rows"]:
        if joints is None:
            results.append((row.name, "source has no mocap_framerate"))
            continue
        clip = crop(joints, row)[:, :22]
        if len(clip) < 2:
            results.append((row.name, f"crop [{row.start}, {row.end}) leaves {len(clip)} frames"))
            continue
        try:
            for name, positions in ((row.name, clip), ("M" + row.name, mirror_joints(clip))):
                features = joints_to_features(positions)
                write_motion(job["out"], name, features=features, joints=features_to_joints(features))
        except UserInputError as error:
            results.append((row.name, str(error)))
            continue
        results.append((row.name, ""))
    return results


# ------------------------------------------------------------------------------------------------ the build
@dataclass
class BuildSettings:
    amass: str
    body_models: str
    index: str
    texts: str
    out: str
    splits: str | None = None  # folder with train.txt, val.txt, test.txt (default: beside index.csv or its HumanML3D/)
    humanact12: str | None = None  # folder of the reference's humanact12 joint files (pose_data/humanact12.zip)
    workers: int = 1


def _split_dir(settings: BuildSettings) -> Path:
    index_dir = Path(settings.index).parent
    candidates = [Path(settings.splits)] if settings.splits else [index_dir, index_dir / "HumanML3D"]
    for directory in candidates:
        if all((directory / f"{name}.txt").is_file() for name in ("train", "val", "test")):
            return directory
    raise UserInputError(
        f"no official split files (train.txt, val.txt, test.txt) in {' or '.join(str(c) for c in candidates)}; "
        "pass --splits DIR (HumanML3D's HumanML3D/ folder)."
    )


def _done(out: Path, name: str) -> bool:
    from .folder import FEATURES_DIR, JOINTS_DIR

    return all((out / d / f"{n}.npy").is_file() for d in (FEATURES_DIR, JOINTS_DIR) for n in (name, "M" + name))


def build_humanml3d(settings: BuildSettings, say: Callable[[str], None] = print) -> dict:
    """Build the folder; returns the summary (also written to OUT/build.json)."""
    from ..io import save_json
    from .amass import body_model_files
    from .folder import write_split

    started = time.perf_counter()
    amass, out, texts = Path(settings.amass), Path(settings.out), Path(settings.texts)
    for path, option in ((amass, "--amass"), (texts, "--texts")):
        if not path.is_dir():
            raise UserInputError(f"{option} '{path}' is not a folder.")
    rows = read_index(settings.index)
    split_dir = _split_dir(settings)
    models = {gender: str(path) for gender, path in body_model_files(settings.body_models).items()}
    humanact12 = Path(settings.humanact12) if settings.humanact12 else None
    if settings.workers < 1:
        raise UserInputError(f"--workers is {settings.workers}, expected at least 1.")

    by_source: dict[Path, list[IndexRow]] = defaultdict(list)
    absent: list[IndexRow] = []
    for row in rows:
        path = row.humanact12_path(humanact12) if row.is_humanact12 and humanact12 else row.amass_path(amass)
        if not path.is_file():
            absent.append(row)
        else:
            by_source[path].append(row)
    datasets = Counter(row.dataset for row in rows if not row.is_humanact12)
    missing_datasets = sorted(d for d in datasets if not any((amass / n).is_dir() for n in (d, AMASS_RENAMES.get(d, d))))
    if not by_source:
        raise UserInputError(
            f"none of the {len(rows)} sources of '{settings.index}' is under '{amass}' (expected AMASS sub-dataset "
            f"folders such as {', '.join(sorted(datasets)[:4])}, each with its .npz files)."
        )
    out.mkdir(parents=True, exist_ok=True)
    jobs, ids = [], set()  # ids: the clips in the folder (already built, or built below)
    for path, source_rows in by_source.items():
        todo = [row for row in source_rows if not _done(out, row.name)]
        ids.update(row.name for row in source_rows if row not in todo)
        if todo:
            jobs.append({"path": str(path), "rows": todo, "out": str(out), "models": models, "humanact12": todo[0].is_humanact12})
    say(f"{len(rows)} index rows: {sum(len(j['rows']) for j in jobs)} clips to build from {len(jobs)} sources, "
        f"{len(ids)} already built, {len(absent)} with an absent source")  # fmt: skip
    skipped = len(ids)

    failed: dict[str, str] = {}
    built = 0
    last = time.perf_counter()
    results = _map(_build_source, jobs, settings.workers)
    for done, outcome in enumerate(results, 1):
        for name, problem in outcome:
            if problem:
                failed[name] = problem
            else:
                built += 1
                ids.add(name)
        if time.perf_counter() - last > 10 or done == len(jobs):
            last = time.perf_counter()
            say(f"  {done}/{len(jobs)} sources, {built} clips built ({last - started:.0f} s)")

    texts_missing = []
    (out / "texts").mkdir(exist_ok=True)
    for name in sorted(ids):
        for clip in (name, "M" + name):
            source = texts / f"{clip}.txt"
            if source.is_file():
                (out / "texts" / f"{clip}.txt").write_bytes(source.read_bytes())
            else:
                texts_missing.append(clip)
    split_counts = {}
    for split in SPLITS:
        path = split_dir / f"{split}.txt"
        if not path.is_file():
            continue
        listed = path.read_text().split()
        kept = [i for i in listed if i.removeprefix("M") in ids]
        write_split(out, split, kept)
        split_counts[split] = {"listed": len(listed), "written": len(kept)}
    stats = _write_statistics(out)
    summary = {
        "index_rows": len(rows),
        "clips_built_now": built,
        "clips_already_built": skipped,
        "clips_in_folder": 2 * len(ids),
        "absent_sources": len(absent),
        "absent_examples": [row.source for row in absent[:20]],
        "absent_sub_datasets": {d: datasets[d] for d in missing_datasets},
        "failed": failed,
        "texts_missing": texts_missing[:50],
        "texts_missing_count": len(texts_missing),
        "splits": split_counts,
        "statistics": stats,
        "seconds": round(time.perf_counter() - started, 1),
    }
    save_json(out / BUILD_REPORT, summary)
    return summary


def _map(function, jobs: list, workers: int):
    if workers > 1 and len(jobs) > 1:
        with ProcessPoolExecutor(max_workers=workers) as pool:
            yield from pool.map(function, jobs)
    else:
        yield from map(function, jobs)


def _write_statistics(out: Path) -> str:
    from ..motion.stats import mean_std
    from .folder import HumanML3DFolder, write_stats

    folder = HumanML3DFolder(out)
    ids = [i for i in folder.ids("train") if folder.has_motion(i)]
    if not ids:
        return "not written: no built clip is in the train split"
    mean, std = mean_std((folder.load_features(i, cache=False) for i in ids), folder.num_joints)
    write_stats(out, mean, std)
    return f"Mean.npy/Std.npy from {len(ids)} train clips"
