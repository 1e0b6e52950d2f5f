"""Write the built-in dataset: a complete HumanML3D-layout folder.

For each motion id (000000, 000001, ...): a description is sampled (compose.py), animated on the rig
(animate.py), turned into features with `joints_to_features` (the code real data goes through) and saved with the
joints decoded from those features (as HumanML3D's new_joints are); its three captions are generated from the same
description. Its mirror "M" + id is the mirrored joints re-encoded, with left/right (and clockwise) swapped in the
captions; it is fitted back onto the target bone lengths with the feet kept in place (pose.fit_to_rig), because the
target skeleton is slightly asymmetric. Splits are 80/5/15 % of the original ids, each mirror in its original's split. Mean/Std come from the
train split. Beside the standard files:
- compositions.jsonl: id -> segments (composition key, actions with modifiers, start/end seconds), for evaluation;
- rare_test.txt: test ids with a segment composition seen fewer than RARE_THRESHOLD times among the train motions
  (mirrors included);
- synth.json: the summary returned by `synthesize` (counts, plausibility figures, caption statistics, timing).

Timed sub-captions (`timed_share`): that share of the motions with several segments gets a fourth caption that
describes one of its segments with the segment's `start#end` seconds, as HumanML3D's texts do (a loader makes it a
sample of its own, the clip cropped to the span); only segments of 2 s or more (HumanML3D keeps crops of at least
40 frames). The draws use their own random stream, so the other captions and the motions do not change with it.

KIT-ML layout (`skeleton="kit"`): the same motions and captions retargeted to KIT's 21-joint skeleton in KIT units
(motion/kit.py), resampled from 20 to 12.5 fps, encoded with the KIT skeleton (251-d features); the plausibility
figures are measured on the 22-joint animation before retargeting.

Everything is deterministic given (n_motions, seed): every motion draws from its own generator seeded by
(seed, index), so the result does not depend on the number of worker processes.
"""

from __future__ import annotations

import json
import os
import time
from collections import Counter
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np

from ...errors import UserInputError
from ...io import atomic_path, load_npy, save_json
from ...motion.features import features_to_joints, joints_to_features
from ...motion.kit import smpl_to_kit
from ...motion.mirror import mirror_joints
from ...motion.skeleton import HUMANML3D, KIT
from ...motion.stats import mean_std
from ..folder import FEATURES_DIR, Caption, write_motion, write_split, write_stats
from .actions import MotionSpec
from .animate import FPS, animate, segment_frame_counts
from .captions import captions as make_captions
from .captions import mirror_text
from .compose import sample_spec
from .pose import fit_to_rig
from .rig import default_rig
from .quality import bone_length_error, ground_penetration, skating
from .tagger import token_field, tokenize

SPLIT_FRACTIONS = {"train": 0.80, "val": 0.05, "test": 0.15}
MIN_TIMED_SECONDS = 2.0  # a timed caption's span: at least 40 frames at 20 fps, as HumanML3D's crops
RARE_THRESHOLD = 10  # segment compositions seen fewer times than this in train (mirrors counted) are rare
COMPOSITIONS_FILE = "compositions.jsonl"
SUMMARY_FILE = "synth.json"
MAX_MOTIONS = 1_000_000
_SKELETONS = {"humanml3d": HUMANML3D, "kit": KIT}  # --skeleton: the dataset's skeleton (fps, joints)
SKELETONS = tuple(_SKELETONS)
RIG = default_rig()


def motion_id(index: int) -> str:
    return f"{index:06d}"


def _caption_objects(texts: list[str]) -> list[Caption]:
    return [Caption(text=text, tokens=token_field(text)) for text in texts]


def timed_caption(spec: MotionSpec, rng: np.random.Generator, share: float) -> Caption | None:
    """A caption of one segment of a several-segment motion with that segment's seconds, drawn with probability
    `share` among the segments long enough for one (None otherwise)."""
    if len(spec.segments) < 2 or rng.random() >= share:
        return None
    times = _segment_times(spec)
    long_enough = [i for i, (start, end) in enumerate(times) if end - start >= MIN_TIMED_SECONDS]
    if not long_enough:
        return None
    which = long_enough[int(rng.integers(len(long_enough)))]
    text = make_captions(MotionSpec((spec.segments[which],)), rng, count=1)[0]
    return Caption(text=text, tokens=token_field(text), start=times[which][0], end=times[which][1])


def resample(joints: np.ndarray, fps: float, target_fps: float) -> np.ndarray:
    """Joint positions at another frame rate (linear interpolation; the first frame kept, none past the last)."""
    times = np.arange(int((len(joints) - 1) * target_fps / fps) + 1) * fps / target_fps
    low = np.minimum(times.astype(int), len(joints) - 1)
    high = np.minimum(low + 1, len(joints) - 1)
    weight = (times - low)[:, None, None]
    return joints[low] * (1 - weight) + joints[high] * weight


def _make_motion(job: tuple[str, int, int, dict, float, str]) -> dict:
    """Caption, animate, encode and write one motion and its mirror; returns its captions and quality figures."""
    root, index, seed, spec_data, timed_share, skeleton = job
    spec = MotionSpec.from_dict(spec_data)
    texts = make_captions(spec, np.random.default_rng([seed, index, 1]))
    timed = timed_caption(spec, np.random.default_rng([seed, index, 3]), timed_share)
    joints = animate(spec, np.random.default_rng([seed, index, 2])).joints
    figures = {"texts": texts, "timed": timed is not None}
    name = motion_id(index)
    for mirrored in (False, True):
        source = fit_to_rig(mirror_joints(joints), RIG) if mirrored else joints
        if skeleton == "kit":  # KIT has no target skeleton to retarget to: every clip keeps the rig's bones
            features = joints_to_features(resample(smpl_to_kit(source), FPS, KIT.fps), KIT)
        else:
            # Our bones already have the target lengths, so HumanML3D's retargeting step is an identity (to 1e-13 m,
            # tested); skipping it halves the encoding time.
            features = joints_to_features(source, retarget_skeleton=False)
        decoded = features_to_joints(features)
        measured = source if skeleton == "kit" else decoded  # the figures: the 22-joint motion in metres
        lines = [mirror_text(t) for t in texts] if mirrored else texts
        captions = _caption_objects(lines)
        if timed is not None:
            text = mirror_text(timed.text) if mirrored else timed.text
            captions.append(Caption(text=text, tokens=token_field(text), start=timed.start, end=timed.end))
        write_motion(root, ("M" if mirrored else "") + name, features=features, joints=decoded, captions=captions)
        total, count = skating(measured, FPS)
        prefix = "mirror_" if mirrored else ""
        figures.update({f"{prefix}skate_total": total, f"{prefix}skate_frames": count,
                        f"{prefix}penetration": ground_penetration(measured),
                        f"{prefix}bone_error": bone_length_error(measured)})
        figures.setdefault("frames", len(features))
    return figures


def _split_ids(count: int, rng: np.random.Generator) -> dict[str, list[int]]:
    order = rng.permutation(count)
    n_val = max(1, int(round(SPLIT_FRACTIONS["val"] * count)))
    n_test = max(1, int(round(SPLIT_FRACTIONS["test"] * count)))
    return {
        "val": sorted(order[:n_val].tolist()),
        "test": sorted(order[n_val : n_val + n_test].tolist()),
        "train": sorted(order[n_val + n_test :].tolist()),
    }


def _with_mirrors(indices: list[int]) -> list[str]:
    return [name for i in indices for name in (motion_id(i), "M" + motion_id(i))]


def rare_ids(keys: dict[str, list[str]], train: list[str], test: list[str], threshold: int = RARE_THRESHOLD) -> list[str]:
    """Test ids with at least one segment composition seen fewer than `threshold` times in the train ids."""
    counts = Counter(k for i in train for k in keys[i])
    return [i for i in test if min(counts[k] for k in keys[i]) < threshold]


def _segment_times(spec: MotionSpec) -> list[tuple[float, float]]:
    counts = segment_frame_counts(spec, FPS)
    starts = np.concatenate([[0], np.cumsum(counts)])
    total = int(starts[-1]) - 1  # feature frames
    return [(round(int(a) / FPS, 3), round(min(int(b), total) / FPS, 3)) for a, b in zip(starts[:-1], starts[1:])]


def synthesize(
    out_dir: str | os.PathLike, n_motions: int = 2000, seed: int = 0, workers: int | None = None, timed_share: float = 0.0,
    skeleton: str = "humanml3d",
) -> dict:
    """Write the dataset to `out_dir` (created; must be empty or absent) and return its summary."""
    if not 1 <= n_motions <= MAX_MOTIONS:
        raise UserInputError(f"--motions is {n_motions}, expected a number between 1 and {MAX_MOTIONS}.")
    if not 0.0 <= timed_share <= 1.0:
        raise UserInputError(f"--timed-captions is {timed_share}, expected a share between 0 and 1.")
    if skeleton not in SKELETONS:
        raise UserInputError(f"--skeleton is '{skeleton}', expected one of {', '.join(SKELETONS)}.")
    root = Path(out_dir)
    if root.exists() and (not root.is_dir() or any(root.iterdir())):
        raise UserInputError(f"output folder '{root}' exists and is not empty; give a new or empty folder.")
    root.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()

    rng = np.random.default_rng(seed)
    specs = [sample_spec(rng) for _ in range(n_motions)]
    jobs = [(str(root), i, seed, spec.to_dict(), timed_share, skeleton) for i, spec in enumerate(specs)]

    workers = workers or min(2, os.cpu_count() or 1)
    if workers > 1 and n_motions >= 8:
        with ProcessPoolExecutor(max_workers=workers) as pool:
            figures = list(pool.map(_make_motion, jobs, chunksize=max(1, n_motions // (8 * workers))))
    else:
        figures = [_make_motion(job) for job in jobs]
    texts = [f["texts"] for f in figures]

    splits = _split_ids(n_motions, np.random.default_rng([seed, 7]))
    named = {name: _with_mirrors(indices) for name, indices in splits.items()}
    named["all"] = _with_mirrors(list(range(n_motions)))
    named["train_val"] = sorted(named["train"] + named["val"])
    keys: dict[str, list[str]] = {}
    for i, spec in enumerate(specs):
        keys[motion_id(i)] = spec.keys
        keys["M" + motion_id(i)] = spec.mirrored().keys
    named["rare_test"] = rare_ids(keys, named["train"], named["test"])
    for name, ids in named.items():
        write_split(root, name, ids)

    mean, std = mean_std((load_npy(root / FEATURES_DIR / f"{i}.npy", name="features") for i in named["train"]), _SKELETONS[skeleton].num_joints)
    write_stats(root, mean, std)

    with atomic_path(root / COMPOSITIONS_FILE) as tmp:
        with open(tmp, "w", encoding="utf-8") as handle:
            for i, spec in enumerate(specs):
                times = _segment_times(spec)
                for mirrored, described in ((False, spec), (True, spec.mirrored())):
                    record = {"id": ("M" if mirrored else "") + motion_id(i), "mirror_of": motion_id(i) if mirrored else None,
                              "keys": described.keys, "segments": []}
                    for segment, (start, end) in zip(described.segments, times):
                        record["segments"].append({**segment.to_dict(), "start": start, "end": end})
                    handle.write(json.dumps(record) + "\n")

    summary = _summary(specs, texts, figures, named, seed, time.perf_counter() - started)
    summary["timed_captions"] = {"share": timed_share, "motions": sum(f["timed"] for f in figures) * 2}
    summary["skeleton"], summary["fps"] = skeleton, _SKELETONS[skeleton].fps
    save_json(root / SUMMARY_FILE, summary)
    return summary


def _summary(specs, texts, figures, named, seed, seconds) -> dict:
    words = [tokenize(t) for group in texts for t in group]
    lengths = np.array([len(w) for w in words])
    vocabulary = {w for ws in words for w in ws}
    skate_frames = sum(f["skate_frames"] for f in figures)
    frames = np.array([f["frames"] for f in figures])
    segment_keys = Counter(k for s in specs for k in s.keys)
    return {
        "motions": len(specs),
        "clips_with_mirrors": 2 * len(specs),
        "seed": seed,
        "splits": {name: len(ids) for name, ids in named.items()},
        "rare_threshold": RARE_THRESHOLD,
        "segments_per_motion": {str(k): v for k, v in sorted(Counter(len(s.segments) for s in specs).items())},
        "distinct_compositions": len(segment_keys),
        "feature_frames": {"total": int(frames.sum()), "mean": float(frames.mean()), "min": int(frames.min()),
                           "max": int(frames.max())},
        "foot_skating_m_per_s": sum(f["skate_total"] for f in figures) / max(skate_frames, 1),
        "foot_skating_mirrors_m_per_s": sum(f["mirror_skate_total"] for f in figures)
        / max(sum(f["mirror_skate_frames"] for f in figures), 1),
        "ground_penetration_max_m": float(max(max(f["penetration"], f["mirror_penetration"]) for f in figures)),
        "bone_length_error_max_m": float(max(max(f["bone_error"], f["mirror_bone_error"]) for f in figures)),
        "captions": len(words),
        "vocabulary": len(vocabulary),
        "caption_words": {"mean": float(lengths.mean()), "median": float(np.median(lengths)),
                          "min": int(lengths.min()), "max": int(lengths.max())},
        "seconds": round(seconds, 2),
    }
