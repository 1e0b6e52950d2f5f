"""End-to-end protocols on a small separable dataset: train an evaluator, then t2m / m2t with stand-in models.

Ground truth must score like the real-motion row; shuffled pairs must score near chance.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch

from remogpt.data.folder import Caption, write_motion, write_split, write_stats
from remogpt.errors import UserInputError
from remogpt.evaluation.protocol import EvalSplit
from remogpt.evaluation.standin import StandInModel, write_stand_in
from remogpt.evaluation.tagger import CaptionTagger, surface_words

torch.set_num_threads(1)  # tiny GRUs: extra threads only contend on a busy machine

VERBS = [("walks", "walk"), ("runs", "run"), ("jumps", "jump"), ("waves", "wave")]
WAYS = ["forward", "backward", "left", "right"]
SUBJECTS = [("a", "person"), ("the", "man"), ("a", "woman")]


def build_dataset(root: Path, per_class: int = 12, seed: int = 0) -> Path:
    """16 text classes (verb x direction); each class moves its own feature dims at its own frequency."""
    rng = np.random.default_rng(seed)
    classes = [(v, w) for v in range(4) for w in range(4)]
    dims = [rng.choice(259, 24, replace=False) for _ in classes]
    ids, frames = [], []
    for c, (v, w) in enumerate(classes):
        for k in range(per_class):
            length = int(rng.integers(40, 120))
            t = np.arange(length)[:, None]
            features = 0.05 * rng.standard_normal((length, 263)).astype(np.float32)
            features[:, dims[c]] += np.sin(2 * np.pi * (0.3 + 0.15 * v) * t / 20 + rng.uniform(0, 6.28)) * (1 + 0.5 * w)
            features[:, 259:] = rng.random((length, 4)) > 0.5
            surface, lemma = VERBS[v]
            captions = [
                Caption(f"{det.capitalize()} {noun} {surface} {WAYS[w]}.", [f"{det}/DET", f"{noun}/NOUN", f"{lemma}/VERB", f"{WAYS[w]}/ADV"])
                for det, noun in SUBJECTS[: 2 + k % 2]
            ]
            motion_id = f"{len(ids):06d}"
            write_motion(root, motion_id, features=features, captions=captions)
            ids.append(motion_id)
            frames.append(features)
    stacked = np.concatenate(frames)
    write_stats(root, stacked.mean(0), stacked.std(0) + 1e-3)
    order = [ids[i] for i in rng.permutation(len(ids))]
    third = len(ids) // 3
    write_split(root, "test", order[:third])
    write_split(root, "val", order[third : third + 32])
    write_split(root, "train", order[third + 32 :])
    write_split(root, "all", order)
    write_split(root, "rare_test", order[:10])
    return root


@pytest.fixture(scope="module")
def dataset(tmp_path_factory) -> Path:
    return build_dataset(tmp_path_factory.mktemp("eval_data"))


@pytest.fixture(scope="module")
def evaluator_dir(dataset, tmp_path_factory) -> Path:
    """An evaluator trained on the dataset through the CLI (a few hundred steps of the tiny preset)."""
    from remogpt.cli import main

    out = tmp_path_factory.mktemp("eval_run")
    with pytest.raises(SystemExit) as done:
        main(["train", "evaluator", "--data", str(dataset), "--out", str(out), "--preset", "tiny",
              "--max-steps", "200", "--val-every", "100", "--no-progress"])  # fmt: skip
    assert done.value.code == 0
    rows = [json.loads(line) for line in (out / "metrics.jsonl").read_text().splitlines()]
    assert any("val/loss" in row for row in rows) and (out / "model" / "words.json").is_file()
    return out / "model"


@pytest.fixture(scope="module")
def stand_ins(dataset, tmp_path_factory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("stand_ins")
    return {mode: write_stand_in(root / mode, mode, dataset) for mode in ("ground_truth", "shuffled")}


def test_t2m_ground_truth_scores_like_real_motion_and_shuffled_near_chance(dataset, evaluator_dir, stand_ins):
    from remogpt.evaluation.runner import run_t2m
    from remogpt.pipeline import load_evaluable

    results = {}
    for mode, path in stand_ins.items():
        results[mode], markdown = run_t2m(
            data=dataset, model=load_evaluable(path), model_dir=path, evaluator_dir=evaluator_dir, replications=4, rare=False, mm_generations=10
        )
    real = results["ground_truth"]["rows"]["real motion"]
    truth = results["ground_truth"]["rows"]["model"]
    shuffled = results["shuffled"]["rows"]["model"]
    assert real["r_top3"]["mean"] > 0.6, real  # the evaluator learned the classes
    assert abs(truth["r_top3"]["mean"] - real["r_top3"]["mean"]) < 0.15
    assert abs(truth["mm_dist"]["mean"] - real["mm_dist"]["mean"]) < 0.25 * real["mm_dist"]["mean"]
    assert truth["fid"]["mean"] < 2 * real["fid"]["mean"] + 0.5
    assert shuffled["r_top1"]["mean"] < 0.15 and shuffled["r_top3"]["mean"] < real["r_top3"]["mean"] - 0.3
    assert shuffled["mm_dist"]["mean"] > real["mm_dist"]["mean"] * 1.3
    assert "| real motion |" in markdown and "| shuffled |" in markdown and "MModality" in markdown
    # the real-motion row does not depend on the model being evaluated (same seeds, same crops and batches)
    assert results["shuffled"]["rows"]["real motion"] == real


def test_t2m_cli_json_has_provenance_and_rare_variants(dataset, evaluator_dir, stand_ins, run_cli, tmp_path):
    out = tmp_path / "t2m.json"
    code, stdout, stderr = run_cli(
        "evaluate", "t2m", "--data", dataset, "--model", stand_ins["ground_truth"], "--evaluator", evaluator_dir,
        "--replications", "2", "--mm-generations", "10", "--out", out,
    )  # fmt: skip
    assert code == 0, stderr
    result = json.loads(out.read_text())
    prov = result["provenance"]
    assert prov["remogpt_version"] and len(prov["data"]["sha256"]) == 64 and prov["data"]["split"] == "test"
    assert prov["evaluator"]["kind"] == "remogpt" and len(prov["evaluator"]["sha256"]) == 64
    assert prov["model_config"]["mode"] == "ground_truth" and prov["seeds"]["replications"] == [[0, 0], [0, 1]]
    assert result["settings"]["replications"] == 2 and result["settings"]["cut_to_reference_length"] is False
    for key in ("top5/r_top1", "balanced/mm_dist", "rare_test/r_top3"):
        assert key in result["rows"]["model"], key
    assert len(result["replications"]) == 2 and result["timings_s"]["wall"] > 0
    assert out.with_suffix(".md").read_text().count("| real motion |") == 2
    assert "Top-5% rarest" in stdout and "rare compositions" in stdout


def test_t2m_without_model_gives_the_real_motion_row(dataset, evaluator_dir, run_cli):
    code, stdout, stderr = run_cli("evaluate", "t2m", "--data", dataset, "--evaluator", evaluator_dir,
                                   "--replications", "1", "--no-rare")  # fmt: skip
    assert code == 0, stderr
    assert "| real motion |" in stdout and "| model |" not in stdout


def test_m2t_ground_truth_and_shuffled(dataset, evaluator_dir, stand_ins, run_cli, tmp_path):
    scores = {}
    for mode, path in stand_ins.items():
        out = tmp_path / f"{mode}.json"
        code, stdout, stderr = run_cli(
            "evaluate", "m2t", "--data", dataset, "--model", path, "--evaluator", evaluator_dir, "--replications", "3",
            "--preprocess", "lower", "--no-bertscore", "--out", out,
        )  # fmt: skip
        assert code == 0, stderr
        scores[mode] = json.loads(out.read_text())
    truth, shuffled = scores["ground_truth"], scores["shuffled"]
    assert set(truth["captions"]) == {"raw", "tokens"}
    assert truth["captions"]["raw"]["bleu4"] > 0.9  # a ground-truth caption is one of its own references
    assert truth["captions"]["raw"]["bleu4"] > shuffled["captions"]["raw"]["bleu4"] + 0.3
    assert truth["captions"]["tokens"]["bleu1"] < truth["captions"]["raw"]["bleu1"]  # lemmas differ from surface words
    assert truth["captions"]["raw"]["bertscore_f1"] is None and truth["captions"]["raw"]["settings"]["preprocess"] == "lower"
    real = truth["rows"]["real captions"]
    assert abs(truth["rows"]["model"]["r_top3"]["mean"] - real["r_top3"]["mean"]) < 0.15
    assert shuffled["rows"]["model"]["r_top3"]["mean"] < real["r_top3"]["mean"] - 0.3
    assert len(truth["predictions"]) == truth["effective"]["samples"]


def test_m2t_beams_need_a_decoding_captioner(dataset, evaluator_dir, stand_ins, run_cli):
    common = ("evaluate", "m2t", "--data", dataset, "--evaluator", evaluator_dir, "--model", stand_ins["ground_truth"])
    code, _, stderr = run_cli(*common, "--beams", "0")
    assert code == 2 and "--beams must be >= 1" in stderr
    code, _, stderr = run_cli(*common, "--beams", "3", "--no-bertscore")  # a stand-in looks captions up
    assert code == 2 and "captions by decoding" in stderr and "Traceback" not in stderr


def test_stand_in_refuses_unknown_text_and_motion(dataset, stand_ins):
    model = StandInModel.from_directory(stand_ins["ground_truth"])
    with pytest.raises(UserInputError, match="knows no motion"):
        model.generate(["nobody said this"])
    with pytest.raises(UserInputError, match="not in its dataset"):
        model.caption([np.zeros((40, 263), dtype=np.float32)])
    split = EvalSplit.from_folder(dataset, "test")
    out = model.generate([split.texts[0]], [40], num_samples=3)  # every motion has >= 40 frames
    assert len(out) == 3 and all(m.shape == (40, 263) for m in out)


def test_eval_split_crops_follow_the_reference_loader(dataset):
    split = EvalSplit.from_folder(dataset, "test")
    lengths, starts = split.crop(np.random.default_rng(0))
    full = split.lengths
    assert (lengths % 4 == 0).all() and (starts >= 0).all() and (starts + lengths <= full).all()
    shorter = lengths == (full // 4 - 1) * 4
    assert set(np.unique(lengths - (full // 4) * 4)) <= {0, -4} and 0.15 < shorter.mean() < 0.55
    picks = split.pick_captions(np.random.default_rng(1))
    assert (split.owner[picks] == np.arange(len(split))).all()
    assert split.fingerprint() == EvalSplit.from_folder(dataset, "test").fingerprint()


def test_caption_tagger_learns_lemmas_and_tags():
    tagger = CaptionTagger.learn([
        ("A person walks forward.", ["a/DET", "person/NOUN", "walk/VERB", "forward/ADV"]),
        ("The man's arm swings", ["the/DET", "man/NOUN", "arm/NOUN", "swing/VERB"]),
        ("misaligned caption here", ["only/ADV"]),
    ])  # fmt: skip
    assert tagger("Someone walks forward!") == ["someone/X", "walk/VERB", "forward/ADV"]
    assert tagger("the person walked")[-1] == "walk/VERB"  # suffix rule onto a known word
    assert surface_words("He doesn't side-step, it's fine") == ["he", "does", "sidestep", "it", "fine"]
    assert "misaligned" not in tagger.lexicon


def test_cli_bad_inputs_get_one_sentence_and_exit_2(dataset, tmp_path, run_cli):
    code, _, stderr = run_cli("evaluate", "t2m", "--data", dataset, "--replications", "1")
    assert code == 2 and "no --evaluator given" in stderr
    (tmp_path / "ev").mkdir()
    code, _, stderr = run_cli("evaluate", "t2m", "--data", dataset, "--evaluator", tmp_path / "ev")
    assert code == 2 and "finest.tar" in stderr
    odd = tmp_path / "odd_model"
    odd.mkdir()
    (odd / "config.json").write_text('{"model_type": "something-else"}')
    from remogpt.pipeline import load_evaluable

    with pytest.raises(UserInputError, match="cannot be evaluated"):
        load_evaluable(odd)
    code, _, stderr = run_cli("evaluate", "m2t", "--data", dataset, "--evaluator", tmp_path / "ev", "--preprocess", "stem")
    assert code == 2 and "--preprocess" in stderr


@pytest.mark.slow
def test_the_language_model_plugs_into_both_protocols(synth_dir, tiny_model_dir, tmp_path, run_cli):
    """`--model` accepts a trained ReMoGPT directory (model_type remogpt-language-model)."""
    code, _, stderr = run_cli("train", "evaluator", "--data", synth_dir, "--out", tmp_path / "ev", "--preset", "tiny",
                              "--max-steps", "5", "--val-every", "5", "--no-progress")  # fmt: skip
    assert code == 0, stderr
    evaluator = tmp_path / "ev" / "model"
    common = ("--data", synth_dir, "--model", tiny_model_dir, "--evaluator", evaluator, "--replications", "1")
    code, stdout, stderr = run_cli("evaluate", "t2m", *common, "--mm-generations", "2", "--no-rare", "--out", tmp_path / "t2m.json")
    assert code == 0, stderr
    assert "| model |" in stdout or f"| {tiny_model_dir.name} |" in stdout
    code, stdout, stderr = run_cli("evaluate", "m2t", *common, "--no-bertscore", "--preprocess", "lower", "--beams", "2",
                                   "--out", tmp_path / "m2t.json")  # fmt: skip
    assert code == 0, stderr
    result = json.loads((tmp_path / "m2t.json").read_text())
    assert result["captions"]["raw"]["settings"]["preprocess"] == "lower" and result["provenance"]["caption_beams"] == 2


class _WithReferenceRows:
    """A ground-truth stand-in that also offers the reference rows: an identity tokenizer, retrieval that is
    shuffled (motions) or exact (captions)."""

    def __init__(self, truth, shuffled):
        self.truth, self.shuffled = truth, shuffled
        self.generate, self.caption = truth.generate, truth.caption

    def reconstruct(self, motions):
        return [m.copy() for m in motions]

    def retrieve_motions(self, texts):
        return self.shuffled.generate(texts)

    def retrieve_captions(self, motions):
        return self.truth.caption(motions)


def test_reference_rows_sit_beside_the_model_in_both_protocols(dataset, evaluator_dir, stand_ins):
    from remogpt.evaluation.guo import load_evaluator
    from remogpt.evaluation.m2t import M2TEvaluation, M2TSettings
    from remogpt.evaluation.protocol import EvalSplit, split_captions
    from remogpt.evaluation.report import m2t_markdown, t2m_markdown
    from remogpt.evaluation.standin import StandInModel
    from remogpt.evaluation.t2m import RECONSTRUCTION_ROW, RETRIEVAL_ROW, T2MEvaluation, T2MSettings
    from remogpt.evaluation.tagger import CaptionTagger

    evaluator = load_evaluator(evaluator_dir)
    split = EvalSplit.from_folder(dataset, "test")
    model = _WithReferenceRows(*(StandInModel.from_directory(stand_ins[m]) for m in ("ground_truth", "shuffled")))
    result = T2MEvaluation(evaluator, split, T2MSettings(replications=2, mm_generations=0)).run(model)
    rows = result["rows"]
    assert list(rows) == ["real motion", RECONSTRUCTION_ROW, RETRIEVAL_ROW, "model"]
    # an identity tokenizer reproduces the real row exactly (same crops, same batches)
    assert rows[RECONSTRUCTION_ROW] == rows["real motion"]
    assert rows[RETRIEVAL_ROW]["r_top1"]["mean"] < 0.15 < rows["model"]["r_top1"]["mean"]
    markdown = t2m_markdown(result)
    assert f"| {RECONSTRUCTION_ROW} |" in markdown and f"| {RETRIEVAL_ROW} |" in markdown
    # switched off, or a model without the methods: only the real and model rows
    off = T2MEvaluation(evaluator, split, T2MSettings(replications=1, mm_generations=0, reference_rows=False)).run(model)
    assert list(off["rows"]) == ["real motion", "model"]
    plain = T2MEvaluation(evaluator, split, T2MSettings(replications=1, mm_generations=0)).run(model.truth)
    assert list(plain["rows"]) == ["real motion", "model"]

    tagger = CaptionTagger.learn(split_captions(dataset, "train"))
    m2t = M2TEvaluation(evaluator, split, tagger, M2TSettings(replications=2, preprocess="lower")).run(model)
    assert list(m2t["rows"]) == ["real captions", RETRIEVAL_ROW, "model"]
    retrieved = m2t["reference_captions"][RETRIEVAL_ROW]["raw"]
    assert retrieved["bleu4"] == m2t["captions"]["raw"]["bleu4"] > 0.3  # exact retrieval = the ground-truth captions
    assert f"| {RETRIEVAL_ROW} (references: raw) |" in m2t_markdown(m2t)


class _Sampling:
    """A stand-in that draws its motions from torch's global generator, as a sampling language model does."""

    def __init__(self, truth):
        self.truth = truth

    def generate(self, texts, lengths=None, num_samples=1):
        motions = self.truth.generate(texts, lengths, num_samples)
        return [m + 0.5 * torch.randn(m.shape).numpy() for m in motions]


def test_a_sampling_model_scores_the_same_every_run(dataset, evaluator_dir, stand_ins):
    from remogpt.evaluation.guo import load_evaluator
    from remogpt.evaluation.t2m import T2MEvaluation, T2MSettings

    evaluator = load_evaluator(evaluator_dir)
    split = EvalSplit.from_folder(dataset, "test")
    runs = []
    for draw in range(2):
        model = _Sampling(StandInModel.from_directory(stand_ins["ground_truth"]))  # its own picks start afresh
        torch.manual_seed(draw)  # whatever state the caller left
        runs.append(T2MEvaluation(evaluator, split, T2MSettings(replications=2, mm_generations=3)).run(model))
    assert runs[0]["rows"] == runs[1]["rows"]
    first, second = (r["model"] for r in runs[0]["replications"])
    assert first["fid"] != second["fid"]  # each replication draws its own motions

