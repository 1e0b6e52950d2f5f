"""The VQ-VAE as a library: shapes, batching with padding masks, save/load token identity, bad input."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from remogpt.errors import UserInputError
from remogpt.tokenizer import MODEL_PRESETS, MotionTokenizer


@pytest.fixture(autouse=True, scope="module")
def one_torch_thread():
    """Tiny models run fastest on one thread, and the CI machine is shared (two threads thrash under load)."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def smooth_motion(rng: np.random.Generator, frames: int, dim: int = 263) -> np.ndarray:
    """Slowly varying features (sums of sines), the kind of signal a motion feature sequence is."""
    t = np.arange(frames)[:, None]
    freq = rng.uniform(0.02, 0.2, size=(1, dim))
    phase = rng.uniform(0, 2 * np.pi, size=(1, dim))
    return (np.sin(freq * t + phase) * rng.uniform(0.1, 1.0, size=(1, dim))).astype(np.float32)


@pytest.fixture
def trained_tiny():
    """A tiny tokenizer whose codebook was initialised and moved by a few EMA training passes."""
    torch.manual_seed(0)
    rng = np.random.default_rng(0)
    model = MotionTokenizer(MODEL_PRESETS["tiny"])
    model.set_normalization(np.zeros(263, np.float32) + 0.1, np.full(263, 0.5, np.float32))
    model.train()
    batch = torch.from_numpy(np.stack([smooth_motion(rng, 32) for _ in range(8)]))
    for _ in range(3):
        model(batch)
    model.eval()
    return model


def test_paper_preset_is_the_published_size():
    config = MODEL_PRESETS["paper"]
    assert (config.width, config.code_dim, config.codebook_size, config.downsample_factor) == (512, 512, 512, 4)
    assert config.downsample_stages == 2 and config.residual_depth == 3 and config.dilation_growth_rate == 3


def test_encode_decode_shapes_and_batching(trained_tiny):
    rng = np.random.default_rng(1)
    motions = [smooth_motion(rng, n) for n in (40, 13, 64, 4, 7)]
    tokens = trained_tiny.encode(motions, batch_size=3)
    assert [len(t) for t in tokens] == [10, 3, 16, 1, 1]
    assert all(0 <= i < 32 for t in tokens for i in t)
    # padding masks: each motion gets the same tokens alone as in any batch
    assert tokens == [trained_tiny.encode([m])[0] for m in motions]
    decoded = trained_tiny.decode(tokens, batch_size=2)
    assert [d.shape for d in decoded] == [(40, 263), (12, 263), (64, 263), (4, 263), (4, 263)]
    assert all(d.dtype == np.float32 for d in decoded)
    alone = [trained_tiny.decode([t])[0] for t in tokens]
    assert max(np.abs(a - b).max() for a, b in zip(decoded, alone)) < 1e-4


def test_save_load_keeps_codebook_and_tokens_in_eval_and_train_mode(trained_tiny, tmp_path):
    rng = np.random.default_rng(2)
    motions = [smooth_motion(rng, 48) for _ in range(3)]
    tokens = trained_tiny.encode(motions)
    trained_tiny.save_pretrained(tmp_path / "tok")
    assert {p.name for p in (tmp_path / "tok").iterdir()} >= {"config.json", "model.safetensors", "Mean.npy", "Std.npy"}
    np.testing.assert_allclose(np.load(tmp_path / "tok" / "Std.npy"), 0.5)

    loaded = MotionTokenizer.from_pretrained(tmp_path / "tok")
    assert loaded.codebook_initialised  # the k-means "initted" flag is a saved buffer
    assert torch.equal(loaded.quantizer.codebook, trained_tiny.quantizer.codebook)
    assert loaded.encode(motions) == tokens
    np.testing.assert_allclose(loaded.decode(tokens)[0], trained_tiny.decode(tokens)[0], atol=1e-6)

    loaded.train()  # the anchors' quantizer re-initialises here; ours must not
    assert loaded.encode(motions) == tokens
    codebook = loaded.quantizer.codebook.clone()
    windows = [m[:32] for m in motions[:2]]
    window_tokens = trained_tiny.encode(windows)
    batch = torch.from_numpy(np.stack(windows))
    _, codes, _ = loaded((batch - loaded.mean) / loaded.std)  # a real training pass: EMA moves, no re-init
    assert codes.tolist() == window_tokens
    assert loaded.codebook_initialised
    assert (loaded.quantizer.codebook - codebook).abs().max() < codebook.abs().max()  # a small EMA step, not a reset


@pytest.mark.parametrize(
    "motion, message",
    [
        (np.zeros((3, 263), np.float32), "at least 4"),
        (np.zeros((10, 251), np.float32), r"expected \(T, 263\)"),
        (np.zeros((10, 22, 3), np.float32), r"expected \(T, 263\)"),
        (np.full((10, 263), np.nan, np.float32), "NaN"),
        (np.where(np.arange(263) == 5, np.inf, 0).astype(np.float32)[None].repeat(8, 0), "NaN or infinite"),
    ],
)
def test_bad_motions_are_refused(trained_tiny, motion, message):
    with pytest.raises(UserInputError, match=message):
        trained_tiny.encode([motion])


@pytest.mark.parametrize(
    "tokens, message",
    [([0, 32], "token id 32"), ([-1], "token id -1"), ([], "non-empty"), ([1.5, 2.0], "integers"), ([[1, 2]], "non-empty")],
)
def test_bad_tokens_are_refused(trained_tiny, tokens, message):
    with pytest.raises(UserInputError, match=message):
        trained_tiny.decode([tokens])
