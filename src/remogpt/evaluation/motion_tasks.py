"""Motion prediction and in-betweening, with the protocol MotionGPT reports: ADE, FDE, FID, Diversity.

Prediction: the first 20 % of each test motion is given and the rest generated. In-betweening: the first and the
last 25 % are given and the middle 50 % generated. Every cut falls on whole motion tokens (`unit` frames, the
tokenizer's downsampling), and the model is asked for exactly the ground truth's number of missing frames, so the
result tiles the ground truth frame for frame.

    ADE   mean joint-position error (metres) over the generated frames and all joints
    FDE   the same at the last generated frame
    FID   evaluator motion embeddings of the whole motions (given + generated) against the real whole motions
    Diversity   mean distance of random pairs of those embeddings (as in text-to-motion)

Joints come from the features (remogpt.motion.features.features_to_joints), the ground truth's and the result's
alike. Reference rows: "real motion" (ADE = FDE = 0, the real Diversity) and a copy baseline that needs no model:
prediction holds the last given pose (velocities zeroed), in-betweening interpolates the features linearly from the
last given frame to the first frame after the gap. A model offers `predict(motions, frames, seed)` and
`inbetween(starts, ends, frames, seed)` (remogpt.pipeline.ReMoGPT).
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np

from ..errors import UserInputError
from .metrics import DIVERSITY_PAIRS, confidence_interval, diversity, fid
from .protocol import EvalSplit

TASKS = ("prediction", "inbetween")
GIVEN_SHARE = {"prediction": 0.2, "inbetween": 0.25}  # MotionGPT's cuts
# HumanML3D feature blocks that are velocities (root angular + linear xz, local joint velocities): zero to hold a pose
VELOCITY_BLOCKS = (slice(0, 3), slice(193, 259))


@dataclass
class MotionTaskSettings:
    task: str = "prediction"
    replications: int = 1  # sampling repetitions (the metric is averaged, with a 95 % interval)
    seed: int = 0
    unit: int = 4  # frames per motion token: cuts fall on token boundaries
    max_length: int = 196


def cuts(length: int, task: str, unit: int) -> tuple[int, int]:
    """(frames given at the start, frames given at the end), both whole units, leaving at least one unit to make."""
    share = GIVEN_SHARE[task]
    head = max(unit, int(round(length * share / unit)) * unit)
    tail = head if task == "inbetween" else 0
    if head + tail + unit > length:
        raise ValueError(f"a {length}-frame motion is too short for {task}")
    return head, tail


def hold_last_pose(start: np.ndarray, frames: int) -> np.ndarray:
    still = start[-1].copy()
    for block in VELOCITY_BLOCKS:
        still[block] = 0.0
    return np.repeat(still[None], frames, axis=0)


def interpolate(start: np.ndarray, end: np.ndarray, frames: int) -> np.ndarray:
    weights = (np.arange(1, frames + 1) / (frames + 1))[:, None]
    return ((1 - weights) * start[-1] + weights * end[0]).astype(start.dtype)


class MotionTaskEvaluation:
    """One task on one split with one evaluator; `run(model)` -> rows of ADE, FDE, FID, Diversity."""

    def __init__(self, evaluator, split: EvalSplit, settings: MotionTaskSettings):
        if settings.task not in TASKS:
            raise UserInputError(f"task '{settings.task}' is unknown, expected one of {', '.join(TASKS)}.")
        self.evaluator, self.settings = evaluator, settings
        unit = settings.unit
        keep = [i for i, m in enumerate(split.motions) if len(m) >= 4 * unit]  # room for given + made parts
        if len(keep) < 2:
            raise UserInputError(f"the split has {len(keep)} motions long enough for {settings.task}; too few to evaluate.")
        # whole units, at most max_length frames (the text-to-motion protocol's crop, from the start)
        self.motions = [split.motions[i][: min(len(split.motions[i]), settings.max_length) // unit * unit] for i in keep]
        self.cuts = [cuts(len(m), settings.task, unit) for m in self.motions]
        self.real_joints = [self._joints(m) for m in self.motions]
        self.real_embeddings = evaluator.embed_motions(self.motions)

    # ---- the pieces each row needs
    def given(self) -> tuple[list[np.ndarray], list[np.ndarray], list[int]]:
        """(starts, ends, missing frames) of every motion; ends are empty for prediction."""
        starts = [m[:head] for m, (head, _) in zip(self.motions, self.cuts)]
        ends = [m[len(m) - tail:] if tail else m[:0] for m, (_, tail) in zip(self.motions, self.cuts)]
        missing = [len(m) - head - tail for m, (head, tail) in zip(self.motions, self.cuts)]
        return starts, ends, missing

    def baseline(self) -> list[np.ndarray]:
        starts, ends, missing = self.given()
        if self.settings.task == "prediction":
            return [np.concatenate([s, hold_last_pose(s, n)]) for s, n in zip(starts, missing)]
        return [np.concatenate([s, interpolate(s, e, n), e]) for s, e, n in zip(starts, ends, missing)]

    def generate(self, model, seed: int) -> list[np.ndarray]:
        starts, ends, missing = self.given()
        if self.settings.task == "prediction":
            results = model.predict(starts, missing, seed=seed)
        else:
            results = model.inbetween(starts, ends, missing, seed=seed)
        return [np.asarray(r.features if hasattr(r, "features") else r, np.float32) for r in results]

    # ---- metrics
    def score(self, motions: list[np.ndarray], rng: np.random.Generator) -> dict[str, float]:
        ade, fde = [], []
        for made, real, (head, tail) in zip(motions, self.real_joints, self.cuts):
            joints = self._joints(made)
            if len(joints) != len(real):
                raise UserInputError(f"a {self.settings.task} result has {len(joints)} frames, expected {len(real)}.")
            error = np.linalg.norm(joints - real, axis=-1)[head : len(real) - tail]  # generated frames only
            ade.append(error.mean())
            fde.append(error[-1].mean())
        embeddings = self.evaluator.embed_motions(motions)
        return {
            "ade": float(np.mean(ade)), "fde": float(np.mean(fde)), "fid": fid(self.real_embeddings, embeddings),
            "diversity": diversity(embeddings, rng, min(DIVERSITY_PAIRS, len(embeddings))),
        }  # fmt: skip

    def run(self, model=None, reference_rows: bool = True) -> dict:
        start = time.perf_counter()
        rows: dict[str, dict] = {}
        rng = np.random.default_rng(self.settings.seed)
        if reference_rows:
            real = diversity(self.real_embeddings, rng, min(DIVERSITY_PAIRS, len(self.real_embeddings)))
            rows["real motion"] = {"ade": _single(0.0), "fde": _single(0.0), "fid": _single(0.0), "diversity": _single(real)}
            copy = self.score(self.baseline(), np.random.default_rng(self.settings.seed))
            name = "hold the last pose" if self.settings.task == "prediction" else "linear interpolation"
            rows[name] = {key: _single(value) for key, value in copy.items()}
        if model is not None:
            runs = [self.score(self.generate(model, self.settings.seed + r), np.random.default_rng(self.settings.seed + r))
                    for r in range(self.settings.replications)]  # fmt: skip
            rows["model"] = {key: _interval([run[key] for run in runs]) for key in runs[0]}
        return {
            "task": self.settings.task, "rows": rows, "motions": len(self.motions),
            "settings": vars(self.settings).copy(), "timings_s": {"wall": round(time.perf_counter() - start, 3)},
        }  # fmt: skip

    def _joints(self, features: np.ndarray) -> np.ndarray:
        from ..motion.features import features_to_joints

        return features_to_joints(features)


def _single(value: float) -> dict:
    return {"mean": float(value), "ci": 0.0}


def _interval(values: list[float]) -> dict:
    mean, ci = confidence_interval(values)
    return {"mean": mean, "ci": ci}


def motion_task_markdown(result: dict, name: str | None = None) -> str:
    lines = [
        f"{result['task']} ({result['motions']} motions)", "",
        "| method | ADE↓ | FDE↓ | FID↓ | Diversity→ |", "|---|---|---|---|---|",
    ]  # fmt: skip
    for row_name, row in result["rows"].items():
        label = name if row_name == "model" and name else row_name
        lines.append(f"| {label} | " + " | ".join(f"{row[k]['mean']:.3f}±{row[k]['ci']:.3f}" for k in ("ade", "fde", "fid", "diversity")) + " |")
    return "\n".join(lines)
