"""Prediction and in-betweening protocols: cuts on token boundaries, a perfect model scores zero, the copy
baselines, the command on a tiny model."""

from __future__ import annotations

import json

import numpy as np
import pytest

from remogpt.evaluation.motion_tasks import MotionTaskEvaluation, MotionTaskSettings, cuts, interpolate


def test_cuts_follow_motiongpt_and_fall_on_tokens():
    assert cuts(100, "prediction", 4) == (20, 0)  # the first 20 %
    assert cuts(100, "inbetween", 4) == (24, 24)  # the first and last 25 %, rounded to whole tokens
    assert cuts(16, "inbetween", 4) == (4, 4)
    with pytest.raises(ValueError):
        cuts(8, "inbetween", 4)


def test_interpolation_runs_between_the_given_frames():
    start, end = np.zeros((3, 2)), np.ones((2, 2))
    np.testing.assert_allclose(interpolate(start, end, 3)[:, 0], [0.25, 0.5, 0.75])


class Oracle:
    """Answers with the ground truth: every error must be zero."""

    def __init__(self, motions):
        # a motion is found by its first frame and its length (a timed crop from frame 0 shares the first frame)
        self.truth = {(m[0].tobytes(), len(m)): m for m in motions}

    def predict(self, starts, frames, seed=None):
        return [self.truth[(s[0].tobytes(), len(s) + n)] for s, n in zip(starts, frames)]

    def inbetween(self, starts, ends, frames, seed=None):
        return [self.truth[(s[0].tobytes(), len(s) + n + len(e))] for s, e, n in zip(starts, ends, frames)]


@pytest.fixture(scope="module")
def evaluation_parts(tiny_model_dir, synth_dir):
    from remogpt.evaluation.guo import load_evaluator
    from remogpt.evaluation.protocol import EvalSplit

    return load_evaluator(tiny_model_dir / "evaluator"), EvalSplit.from_folder(synth_dir, "test")


@pytest.mark.parametrize("task", ["prediction", "inbetween"])
def test_a_perfect_model_scores_zero_and_the_copy_baseline_does_not(evaluation_parts, task):
    evaluator, split = evaluation_parts
    evaluation = MotionTaskEvaluation(evaluator, split, MotionTaskSettings(task=task))
    rows = evaluation.run(Oracle(evaluation.motions))["rows"]
    assert rows["model"]["ade"]["mean"] == pytest.approx(0, abs=1e-6) and rows["model"]["fde"]["mean"] == pytest.approx(0, abs=1e-6)
    assert rows["model"]["fid"]["mean"] == pytest.approx(0, abs=1e-3)
    baseline = rows["hold the last pose" if task == "prediction" else "linear interpolation"]
    assert baseline["ade"]["mean"] > 0.01 and baseline["fid"]["mean"] > rows["model"]["fid"]["mean"]


def test_evaluate_pred_and_inbetween_commands(tiny_model_dir, synth_dir, tmp_path, run_cli):
    for command in ("pred", "inbetween"):
        out = tmp_path / f"{command}.json"
        code, stdout, err = run_cli("evaluate", command, "--data", synth_dir, "--model", tiny_model_dir, "--out", out)
        assert code == 0, err
        result = json.loads(out.read_text())
        assert set(result["rows"]) >= {"real motion", "model"} and result["provenance"]["sampling"] is not None
        model = result["rows"]["model"]
        assert np.isfinite([model[k]["mean"] for k in ("ade", "fde", "fid", "diversity")]).all() and model["ade"]["mean"] > 0
        assert "| real motion |" in stdout
