"""Caption metrics (pycocoevalcap, bert-score with the local MiniLM) and `remogpt evaluate captions`."""

from __future__ import annotations

import json
import math
import shutil

import pytest

from remogpt.errors import UserInputError
from remogpt.evaluation.captions import (
    coco_scores,
    default_bertscore_settings,
    pad_references,
    preprocess,
    score_captions,
)


def test_references_are_cycled_or_truncated():
    assert pad_references(["A", "B"], 3) == ["A", "B", "A"]
    assert pad_references(["A"], 3) == ["A", "A", "A"]
    assert pad_references(["A", "B", "C", "D"], 3) == ["A", "B", "C"]
    with pytest.raises(UserInputError):
        pad_references([], 3)


def test_bleu1_and_rouge_l_by_hand():
    # BLEU-1: all 3 words match, brevity penalty exp(1 - 4/3) against the closest reference length 4
    scores = coco_scores(["a man walks"], [["a man walks forward"]])
    assert scores["bleu1"] == pytest.approx(math.exp(1 - 4 / 3), abs=1e-6)
    # ROUGE-L: LCS("a b c", "a c b d") = 2, P = 2/3, R = 2/4, beta = 1.2
    p, r, beta = 2 / 3, 2 / 4, 1.2
    rouge = coco_scores(["a b c"], [["a c b d"]])["rouge_l"]
    assert rouge == pytest.approx((1 + beta**2) * p * r / (r + beta**2 * p), abs=1e-6)


def test_cider_d_rewards_consensus_and_penalises_repetition():
    refs = [["a man walks forward", "a person walks forward"], ["someone jumps up", "a person jumps up high"],
            ["the man waves his hand", "a person waves"]]  # fmt: skip
    good = coco_scores(["a person walks forward", "a person jumps up", "a person waves"], refs)["cider"]
    swapped = coco_scores(["a person jumps up", "a person waves", "a person walks forward"], refs)["cider"]
    repeated = coco_scores(["walks walks walks walks", "jumps jumps jumps", "waves waves waves"], refs)["cider"]
    assert good > 1.0 > swapped and good > repeated


def test_preprocessing_modes():
    texts = ["A man walks, then TURNS left."]
    assert preprocess(texts, "none") == texts
    assert preprocess(texts, "lower") == ["a man walks then turns left"]
    with pytest.raises(UserInputError, match="--preprocess"):
        preprocess(texts, "stem")


@pytest.mark.skipif(shutil.which("java") is None, reason="the COCO PTB tokenizer needs Java")
def test_ptb_tokenizer_lowercases_and_drops_punctuation():
    assert preprocess(["A man walks, then TURNS left.", "It's fine"], "ptb") == ["a man walks then turns left", "it 's fine"]


def test_case_and_punctuation_change_scores_unless_preprocessed():
    predictions, references = ["A man walks forward."], [["a man walks forward"]]
    raw = score_captions(predictions, references, preprocessing="none", num_references=1)
    lower = score_captions(predictions, references, preprocessing="lower", num_references=1)
    assert raw["bleu1"] < 1.0 and lower["bleu1"] == pytest.approx(1.0)
    assert lower["settings"]["preprocess"] == "lower" and lower["bertscore_f1"] is None


def test_bertscore_with_the_local_minilm():
    settings = default_bertscore_settings()
    result = score_captions(
        ["a person walks forward", "someone jumps"],
        [["a person walks forward"], ["the man sits down on a chair"]],
        preprocessing="lower",
        num_references=3,
        bertscore=settings,
        device="cpu",
    )
    assert 0.0 < result["bertscore_f1"] < 1.0
    assert result["settings"]["bertscore"]["num_layers"] == 6 and "minilm" in result["settings"]["bertscore"]["model"].lower()
    perfect = score_captions(["a person walks"], [["a person walks"]], preprocessing="none", bertscore=settings, device="cpu")
    assert perfect["bertscore_f1"] == pytest.approx(1.0, abs=1e-4)


def _write(path, rows):
    path.write_text("\n".join(json.dumps(r) for r in rows) + "\n")
    return path


def test_cli_scores_a_predictions_file(tmp_path, run_cli):
    predictions = _write(tmp_path / "pred.jsonl", [
        {"id": "000001", "prediction": "A person walks forward.", "references": ["a person walks forward", "someone walks ahead"]},
        {"id": 2, "prediction": "a man jumps", "references": ["a man jumps up", "a person jumps", "the man hops", "extra"]},
    ])  # fmt: skip
    out = tmp_path / "result.json"
    code, stdout, stderr = run_cli("evaluate", "captions", predictions, "--preprocess", "lower", "--no-bertscore", "--out", out)
    assert code == 0, stderr
    result = json.loads(out.read_text())
    for key in ("bleu1", "bleu2", "bleu3", "bleu4", "rouge_l", "cider"):
        assert 0.0 <= result[key] <= 10.0 and (key == "cider" or result[key] <= 1.0)
    assert result["bertscore_f1"] is None
    assert result["settings"]["preprocess"] == "lower" and result["settings"]["references"] == 3
    assert "BLEU@4" in stdout and "CIDEr-D" in stdout


def test_cli_none_keeps_strings_exactly(tmp_path, run_cli):
    predictions = _write(tmp_path / "p.jsonl", [{"id": 1, "prediction": "Walks.", "references": ["walks"]}])
    out = tmp_path / "r.json"
    code, _, stderr = run_cli("evaluate", "captions", predictions, "--preprocess", "none", "--no-bertscore", "--out", out)
    assert code == 0, stderr
    assert json.loads(out.read_text())["bleu1"] < 1e-6


@pytest.mark.parametrize(
    "content, message",
    [
        ("not json\n", "line 1"),
        ('{"id": 1, "prediction": "x"}\n', "'references'"),
        ('{"id": 1, "prediction": "x", "references": []}\n', "non-empty list"),
        ('{"id": 1, "prediction": "x", "references": ["a"]}\n{"id": 1, "prediction": "y", "references": ["a"]}\n', "repeats"),
        ("\n", "no predictions"),
    ],
)
def test_cli_rejects_malformed_predictions(tmp_path, run_cli, content, message):
    path = tmp_path / "bad.jsonl"
    path.write_text(content)
    out = tmp_path / "never.json"
    code, _, stderr = run_cli("evaluate", "captions", path, "--no-bertscore", "--out", out)
    assert code == 2 and message in stderr and not out.exists()


def test_cli_rejects_unknown_preprocessing(tmp_path, run_cli):
    path = _write(tmp_path / "p.jsonl", [{"id": 1, "prediction": "x", "references": ["x"]}])
    code, _, stderr = run_cli("evaluate", "captions", path, "--preprocess", "stem", "--no-bertscore")
    assert code == 2 and "--preprocess" in stderr
