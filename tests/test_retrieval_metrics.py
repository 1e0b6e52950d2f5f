"""TMR retrieval protocols: ranks with ties averaged, R@k / MedR, and the four protocols."""

import numpy as np
import pytest

from remogpt.errors import UserInputError
from remogpt.retrieval.metrics import (
    dissimilar_subset,
    evaluate_protocol,
    gallery_metrics,
    ground_truth_ranks,
    markdown_table,
    rank_metrics,
)


def _unit(rows):
    rows = np.asarray(rows, dtype=np.float64)
    return rows / np.linalg.norm(rows, axis=1, keepdims=True)


def test_ranks_count_strictly_better_items_and_average_ties():
    similarity = np.array(
        [
            [0.9, 0.1, 0.2],  # ground truth best -> 1
            [0.5, 0.3, 0.3],  # one better, tied with one other -> positions 2 and 3 -> 2.5
            [0.7, 0.7, 0.7],  # three-way tie -> average of positions 1, 2, 3 = 2
        ]
    )
    assert ground_truth_ranks(similarity).tolist() == [1.0, 2.5, 2.0]


def test_rank_metrics_recall_and_median():
    metrics = rank_metrics(np.array([1, 1, 2, 4, 11, 30]))
    assert metrics["R@1"] == pytest.approx(100 * 2 / 6)
    assert metrics["R@2"] == pytest.approx(100 * 3 / 6)
    assert metrics["R@5"] == pytest.approx(100 * 4 / 6)
    assert metrics["R@10"] == pytest.approx(100 * 4 / 6)
    assert metrics["MedR"] == 3.0


def test_perfect_and_shuffled_galleries():
    rng = np.random.default_rng(0)
    emb = _unit(rng.normal(size=(50, 16)))
    perfect = gallery_metrics(emb, emb)
    assert perfect["t2m"]["R@1"] == 100.0 and perfect["m2t"]["MedR"] == 1.0
    # motion i is the text of (i + 1): the ground truth is never the best match
    shifted = gallery_metrics(emb, np.roll(emb, 1, axis=0))
    assert shifted["t2m"]["R@1"] < 10.0 and shifted["t2m"]["MedR"] > 5


def test_text_to_motion_and_motion_to_text_are_transposes():
    similarity_text = _unit([[1, 0], [0.8, 0.6], [0, 1]])
    motion = _unit([[0.9, 0.1], [0.0, 1.0], [0.7, 0.7]])
    result = gallery_metrics(similarity_text, motion)
    s = similarity_text @ motion.T
    assert result["t2m"]["MedR"] == float(np.median(ground_truth_ranks(s)))
    assert result["m2t"]["MedR"] == float(np.median(ground_truth_ranks(s.T)))


def test_threshold_protocol_counts_near_identical_captions_as_hits():
    # two pairs whose captions are the same sentence: retrieving the other one's motion is a hit under (b)
    text = _unit([[1, 0, 0], [1, 0, 0.01], [0, 1, 0], [0, 0, 1]])
    motion = _unit([[1, 0, 0.5], [1, 0, 0], [0, 1, 0], [0, 0, 1]])  # text 1 is closer to motion 1... and text 0 too
    sentence = _unit([[1, 0, 0], [1, 0, 0], [0, 1, 0], [0, 0, 1]])
    plain = evaluate_protocol("a", text, motion, sentence)
    threshold = evaluate_protocol("b", text, motion, sentence)
    assert plain["t2m"]["R@1"] == 75.0  # text 0 prefers motion 1
    assert threshold["t2m"]["R@1"] == 100.0
    assert threshold["protocol_name"] == "threshold"


def test_dissimilar_subset_picks_spread_out_captions():
    rng = np.random.default_rng(1)
    centres = _unit(rng.normal(size=(5, 8)))
    # 40 near-copies of each of 5 captions: a dissimilar subset of 5 takes one from each cluster
    sentence = _unit(np.repeat(centres, 40, axis=0) + 0.01 * rng.normal(size=(200, 8)))
    subset = dissimilar_subset(sentence, size=5)
    assert len(set(subset.tolist())) == 5
    assert sorted(set((subset // 40).tolist())) == [0, 1, 2, 3, 4]
    assert np.array_equal(subset, dissimilar_subset(sentence, size=5))  # seeded: reproducible


def test_protocol_c_and_d_sizes():
    rng = np.random.default_rng(2)
    emb = _unit(rng.normal(size=(130, 16)))
    c = evaluate_protocol("c", emb, emb, emb)
    assert c["gallery_size"] == 100 and c["t2m"]["R@1"] == 100.0
    d = evaluate_protocol("d", emb, _unit(emb + 0.8 * rng.normal(size=emb.shape)))
    assert d["galleries"] == 4 and d["gallery_size"] == 32  # 130 // 32, the incomplete batch dropped
    a = evaluate_protocol("a", emb, _unit(emb + 0.8 * rng.normal(size=emb.shape)))
    assert d["t2m"]["R@1"] >= a["t2m"]["R@1"]  # 32 candidates are easier than 130


def test_protocol_errors():
    emb = _unit(np.eye(4))
    with pytest.raises(UserInputError, match="protocol 'e'"):
        evaluate_protocol("e", emb, emb)
    with pytest.raises(UserInputError, match="at least 32"):
        evaluate_protocol("d", emb, emb)


def test_markdown_table_names_the_protocol():
    emb = _unit(np.eye(6))
    table = markdown_table([("PL-TMR", evaluate_protocol("a", emb, emb))])
    lines = table.strip().splitlines()
    assert len(lines) == 4
    assert "(a) all, gallery 6" in lines[2] and "text->motion" in lines[2] and "motion->text" in lines[3]
    assert lines[0].count("|") == lines[1].count("|") == lines[2].count("|")
