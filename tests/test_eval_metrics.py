"""Metric functions against hand-computed values and library references (scipy)."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.spatial.distance import cdist

from remogpt.evaluation import metrics


def test_distance_matrix_matches_scipy():
    rng = np.random.default_rng(0)
    a, b = rng.standard_normal((7, 5)), rng.standard_normal((4, 5))
    np.testing.assert_allclose(metrics.euclidean_distance_matrix(a, b), cdist(a, b), atol=1e-10)
    assert metrics.euclidean_distance_matrix(a, a).diagonal().max() < 1e-6


def test_batch_hits_by_hand():
    # row 0: own motion nearest; row 1: own motion 2nd; row 2: own motion 3rd; row 3: 4th (miss)
    d = np.array([[0.1, 0.5, 0.6, 0.7], [0.1, 0.2, 0.6, 0.7], [0.1, 0.2, 0.3, 0.7], [0.1, 0.2, 0.3, 0.4]])
    hits = metrics.batch_hits(d, top_k=3)
    assert hits.tolist() == [[True, True, True], [False, True, True], [False, False, True], [False, False, False]]
    np.testing.assert_allclose(metrics.r_precision(hits), [0.25, 0.5, 0.75])


def test_batched_matching_drops_last_partial_batch_and_scores_identity():
    rng = np.random.default_rng(0)
    emb = rng.standard_normal((70, 8))
    order, hits, matched = metrics.batched_matching(emb, emb, np.random.default_rng(1), batch_size=32)
    assert len(order) == 64 and len(set(order.tolist())) == 64
    assert hits.all() and np.allclose(matched, 0.0, atol=1e-6)
    # with unrelated motions, Top-1 is near chance (1/32)
    chance = [metrics.batched_matching(rng.standard_normal((3200, 8)), rng.standard_normal((3200, 8)), rng)[1][:, 0].mean() for _ in range(3)]
    assert abs(np.mean(chance) - 1 / 32) < 0.01


def test_mm_dist_is_mean_matched_distance():
    text = np.zeros((32, 2))
    motion = np.zeros((32, 2))
    motion[:, 0] = np.arange(32)  # matched distance of pair i is i
    _, _, matched = metrics.batched_matching(text, motion, np.random.default_rng(0))
    assert matched.mean() == pytest.approx(np.arange(32).mean())


def test_frechet_distance_of_diagonal_gaussians_by_hand():
    mu1, mu2 = np.array([0.0, 1.0, 2.0]), np.array([1.0, 1.0, 0.0])
    a, b = np.array([1.0, 4.0, 9.0]), np.array([4.0, 1.0, 1.0])
    expected = 1.0 + 0.0 + 4.0 + np.sum(a + b - 2 * np.sqrt(a * b))
    assert metrics.frechet_distance(mu1, np.diag(a), mu2, np.diag(b)) == pytest.approx(expected)


def test_fid_matches_a_direct_scipy_computation():
    from scipy import linalg

    rng = np.random.default_rng(0)
    x = rng.standard_normal((500, 6))
    y = rng.standard_normal((400, 6)) @ rng.standard_normal((6, 6)) + 0.5
    s1, s2 = np.cov(x, rowvar=False), np.cov(y, rowvar=False)
    diff = x.mean(0) - y.mean(0)
    expected = diff @ diff + np.trace(s1 + s2 - 2 * linalg.sqrtm(s1 @ s2).real)
    assert metrics.fid(x, y) == pytest.approx(expected, rel=1e-8)
    assert metrics.fid(x, x) == pytest.approx(0.0, abs=1e-8)


def test_fid_survives_singular_covariances():
    x = np.zeros((50, 4))
    x[:, 0] = np.linspace(0, 1, 50)  # rank-1 covariance
    assert np.isfinite(metrics.fid(x, x + 1.0))


def test_diversity_by_hand():
    # two points at distance 2, half of the embeddings at each
    emb = np.array([[0.0, 0.0], [2.0, 0.0]] * 200)
    value = metrics.diversity(emb, np.random.default_rng(0), pairs=300)
    # a random pair is different with probability 1/2 -> mean distance close to 1
    assert 0.8 < value < 1.2
    assert metrics.diversity(np.ones((300, 3)), np.random.default_rng(0)) == 0.0
    with pytest.raises(ValueError):
        metrics.diversity(np.ones((10, 3)), np.random.default_rng(0), pairs=300)


def test_multimodality_by_hand():
    same = np.repeat(np.arange(5.0)[:, None, None], 30, axis=1) * np.ones((5, 30, 4))
    assert metrics.multimodality(same, np.random.default_rng(0)) == 0.0
    spread = np.zeros((3, 30, 1))
    spread[:, :, 0] = np.arange(30)  # distance between generation i and j is |i - j|
    rng = np.random.default_rng(5)
    first = np.random.default_rng(5).choice(30, 10, replace=False)
    second_rng = np.random.default_rng(5)
    second_rng.choice(30, 10, replace=False)
    second = second_rng.choice(30, 10, replace=False)
    assert metrics.multimodality(spread, rng) == pytest.approx(np.abs(first - second).mean())


def test_confidence_interval_by_hand():
    mean, half = metrics.confidence_interval([1.0, 2.0, 3.0, 4.0])
    assert mean == 2.5 and half == pytest.approx(1.96 * np.sqrt(1.25) / 2)


def test_rarity_top_fraction_and_balanced_mean():
    train = np.array([[0.0, 0.0], [10.0, 0.0]])
    test = np.array([[0.0, 1.0], [10.0, 3.0], [5.0, 0.0]])
    np.testing.assert_allclose(metrics.rarity(test, train), [1.0, 3.0, 5.0])
    scores = np.arange(100, dtype=float)
    mask = metrics.top_fraction(scores, 0.05)
    assert mask.sum() == 5 and mask[95:].all()
    bins = metrics.rarity_bins(scores, 10)
    assert np.bincount(bins).tolist() == [10] * 10 and bins[0] == 0 and bins[-1] == 9
    # balanced: each bin weighs the same whatever its size
    values = np.array([1.0, 1.0, 1.0, 5.0])
    assert metrics.balanced_mean(values, np.array([0, 0, 0, 1]), bins=2) == pytest.approx(3.0)
