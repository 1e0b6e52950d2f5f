"""Honest notices: words the model has never read, prompts longer than its captions, and references that match the
query poorly are said to the user (library, CLI, server) instead of silently producing an unrelated motion."""

from __future__ import annotations

import json

import numpy as np
import pytest

from remogpt.language.prompts import Reference
from remogpt.notices import PromptScope, calibrate_match_thresholds, weak_match_notice
from remogpt.shipped import shipped_model_dir


def test_unknown_words_are_listed_once_in_order_and_known_ones_are_not():
    scope = PromptScope.from_captions(["A person walks forward.", "someone jumps twice, then waves"])
    assert scope.longest == 5
    assert scope.unknown_words("A person walks forward") == []
    assert scope.unknown_words("a person dances salsa, dances again then walks") == ["dances", "salsa", "again"]
    (notice,) = scope.notices("someone does a cartwheel")
    assert "'does', 'cartwheel'" in notice and notice.endswith("cannot follow them.")
    assert scope.notices("someone jumps") == []


def test_a_prompt_longer_than_every_caption_is_told_so():
    scope = PromptScope.from_captions(["a person walks forward", "someone jumps twice"])
    said = scope.notices("a person walks forward someone jumps twice a person walks")
    assert len(said) == 1 and "10 words, more than any caption the model was trained on (4)" in said[0]


def test_a_weak_best_reference_is_named_with_its_threshold():
    thresholds = {"text->motion": 0.7, "text->text": 0.8}
    strong = [Reference("a person walks", (1,), "text->motion", 0.9), Reference("a man walks", (2,), "text->text", 0.95)]
    assert weak_match_notice(strong, thresholds) is None
    weak = [Reference("a person steps", (1,), "text->motion", 0.55), Reference("a man walks", (2,), "text->text", 0.95)]
    notice = weak_match_notice(weak, thresholds)
    assert "text->motion, similarity 0.550, below the usual 0.700" in notice and "'a person steps'" in notice
    assert weak_match_notice(weak, {}) is None  # an uncalibrated model says nothing


def test_thresholds_are_a_low_quantile_of_held_out_best_similarities():
    class Context:  # two kinds per query; the best of each kind counts
        def for_texts(self, texts):
            return [[Reference("", (), "text->motion", s), Reference("", (), "text->motion", s - 0.5)] for s in np.linspace(0, 1, len(texts))]

        def for_motions(self, motions):
            return [[Reference("", (), "motion->text", 0.3)] for _ in motions]

    thresholds = calibrate_match_thresholds(Context(), ["t"] * 101, [np.zeros((4, 2))] * 3, quantile=0.1)
    assert thresholds == {"text->motion": pytest.approx(0.1), "motion->text": pytest.approx(0.3)}


@pytest.fixture(scope="module")
def shipped():
    if shipped_model_dir() is None:
        pytest.skip("no shipped model in this installation")
    from remogpt.pipeline import ReMoGPT

    return ReMoGPT.from_pretrained(None)


def test_shipped_model_is_calibrated_and_tells_out_of_world_prompts(shipped):
    assert set(shipped.config.match_thresholds) == {"text->motion", "text->text", "motion->text", "motion->motion"}
    cartwheel, walk = shipped.context.for_texts(["a person does a cartwheel", "a person walks forward"])
    said = shipped.text_notices("a person does a cartwheel", cartwheel)
    assert any("'cartwheel'" in s for s in said) and any("closest match" in s for s in said)
    assert shipped.text_notices("a person walks forward", walk) == []
    noise = np.random.default_rng(0).normal(size=(80, shipped.config.feature_dim)).astype(np.float32)
    (references,) = shipped.context.for_motions([noise])
    assert any("closest match in the model's database (motion->" in s for s in shipped.context_notices(references))


def test_generate_cli_prints_notices_on_stderr(run_cli, tmp_path, shipped):
    code, out, err = run_cli("generate", "someone dances salsa", "-o", tmp_path / "salsa.npy", "--seed", "0", "--candidates", "1")
    assert code == 0 and (tmp_path / "salsa.npy").is_file() and "wrote" in out
    assert "note: the model does not know 'dances', 'salsa'" in err


def test_server_results_carry_notices(tiny_model_dir):
    from fastapi.testclient import TestClient

    from remogpt.serve.app import create_app

    config = json.loads((tiny_model_dir / "remogpt.json").read_text())
    assert config["match_thresholds"]  # train all calibrated the tiny model on its validation split
    with TestClient(create_app(tiny_model_dir)) as client:
        body = client.post("/api/generate", json={"text": "a person does a cartwheel", "seed": 0}).json()
    assert any("'cartwheel'" in n for n in body["notices"])
