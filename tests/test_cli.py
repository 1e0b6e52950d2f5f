"""The `remogpt` command's own contract: usage mistakes are one sentence and exit code 2, never a traceback."""

from __future__ import annotations

import os

import pytest


@pytest.mark.parametrize(
    "args, needle",
    [
        ((), "Usage"),
        (("genrate",), "No such command"),
        (("caption",), "Missing argument"),
        (("generate",), "Missing option"),
        (("generate", "a person walks"), "Missing option"),
        (("generate", "a person walks", "-o", "x.npy", "--seed", "abc"), "--seed"),
        (("generate", "a person walks", "-o", "x.npy", "--features", "true"), "unexpected extra argument"),
        (("train", "lm", "--data"), "requires an argument"),
    ],
)
def test_usage_mistakes_exit_2_without_a_traceback(run_cli, args, needle):
    code, out, err = run_cli(*args)
    assert code == 2 and needle in out + err and "Traceback" not in out + err


def test_version_and_help_exit_0(run_cli):
    from remogpt import __version__

    code, out, _ = run_cli("--version")
    assert code == 0 and out.strip() == f"remogpt {__version__}"
    code, out, _ = run_cli("--help")
    assert code == 0 and "generate" in out


def test_load_npy_reads_the_header_before_the_data(tmp_path):
    import numpy as np

    from remogpt.errors import UserInputError
    from remogpt.io import load_npy

    text = tmp_path / "notes.npy"
    text.write_text("not an array")
    forged = tmp_path / "forged.npy"
    with open(forged, "wb") as handle:  # claims 4 TB, holds 64 bytes
        np.lib.format.write_array_header_1_0(handle, {"descr": "<f4", "fortran_order": False, "shape": (10**6, 10**6)})
        handle.write(b"0" * 64)
    complex_array = tmp_path / "complex.npy"
    np.save(complex_array, np.zeros((4, 263), np.complex64))
    for path, needle in ((text, "not a .npy array file"), (forged, "declares shape"), (complex_array, "real numbers")):
        with pytest.raises(UserInputError, match=needle):
            load_npy(path)
    good = tmp_path / "good.npy"
    np.save(good, np.ones((4, 263), np.float32))
    assert load_npy(good).shape == (4, 263)


@pytest.mark.parametrize(
    "setting, value, needle",
    [
        ("temperature", float("nan"), "temperature"),
        ("temperature", 0.0, "temperature"),
        ("top_k", -5, "top-k"),
        ("top_p", 5.0, "top-p"),
        ("top_p", 0.0, "top-p"),
        ("caption_beams", 0, "beam width"),
        ("caption_beams", 10_000, "beam width"),
        ("context_guidance", -1.0, "guidance"),
        ("text_guidance", 11.0, "text guidance"),
    ],
)
def test_sampling_settings_refuse_what_decoding_cannot_use(setting, value, needle):
    from remogpt.errors import UserInputError
    from remogpt.pipeline import SamplingSettings

    SamplingSettings().check()
    with pytest.raises(UserInputError, match=needle):
        SamplingSettings(**{setting: value}).check()
    with pytest.raises(UserInputError, match="not both"):
        SamplingSettings(text_guidance=1.0, context_guidance=1.0).check()


def test_degenerate_joints_are_refused_not_written_as_nan(run_cli, tmp_path):
    import numpy as np

    source, out = tmp_path / "zeros.npy", tmp_path / "f.npy"
    np.save(source, np.zeros((30, 22, 3), np.float32))
    code, _, err = run_cli("motion", "to-features", source, "-o", out)
    assert code == 2 and "do not form a body" in err and not out.exists()


def test_writing_problems_are_one_sentence(run_cli, tmp_path):
    """-o naming a folder, or a folder that cannot be written: one sentence and exit 2, nothing left behind."""
    folder = tmp_path / "out.npy"
    folder.mkdir()
    code, _, err = run_cli("generate", "a person walks", "-o", folder)
    assert code == 2 and "is a folder" in err
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o500)
    try:
        if os.access(locked, os.W_OK):  # root ignores permissions: nothing to check
            pytest.skip("running as a user that can write anywhere")
        code, _, err = run_cli("generate", "a person walks", "-o", locked / "g.npy")
        assert code == 2 and "Permission denied" in err and "Traceback" not in err
        assert list(locked.iterdir()) == []
    finally:
        locked.chmod(0o700)


def test_a_trainer_that_cannot_start_is_one_sentence(run_cli, tmp_path):
    import torch

    if torch.cuda.is_available():
        pytest.skip("this machine has a GPU")
    data = tmp_path / "data"
    from remogpt.data.synth import synthesize

    synthesize(data, 12, seed=0)
    code, _, err = run_cli("train", "tokenizer", "--data", data, "--out", tmp_path / "run", "--preset", "tiny",
                           "--max-steps", "1", "--accelerator", "gpu")  # fmt: skip
    assert code == 2 and "accelerator='gpu'" in err


def test_a_prompt_the_model_cannot_read_is_refused(run_cli, tmp_path):
    code, _, err = run_cli("generate", "😀😀😀", "-o", tmp_path / "e.npy")
    assert code == 2 and "holds no word this model knows" in err and not (tmp_path / "e.npy").exists()
    code, _, err = run_cli("generate", "a person waves 😀", "-o", tmp_path / "w.npy", "--seed", "0")
    assert code == 0, err  # an unknown character among known words is read around


@pytest.mark.parametrize("scale", [1e30, 1e6])
def test_features_at_another_scale_are_refused_not_captioned(run_cli, tmp_path, scale):
    import numpy as np

    from remogpt.pipeline import ReMoGPT

    model = ReMoGPT.from_pretrained(None)
    features = model.motion_tokenizer.mean.numpy()[None].repeat(40, 0) * scale
    np.save(tmp_path / "scaled.npy", features.astype(np.float32))
    for command in (["caption", tmp_path / "scaled.npy"], ["predict", tmp_path / "scaled.npy", "-o", tmp_path / "p.npy"]):
        code, out, err = run_cli(*command)
        assert code == 2 and "standard deviations from the training data's mean" in err and "scaled.npy" in err
    assert not (tmp_path / "p.npy").exists()


def test_load_npy_reads_every_layout_and_many_files_at_once(tmp_path):
    """Headers are parsed under a lock (CPython 3.11's parser is not thread-safe) and the data read directly:
    Fortran order, big-endian, scalars and 0-d arrays come back as np.load gives them, from 8 threads at once."""
    from concurrent.futures import ThreadPoolExecutor

    import numpy as np

    from remogpt.io import load_npy

    arrays = {
        "c": np.arange(24, dtype=np.float32).reshape(2, 3, 4), "f": np.asfortranarray(np.arange(12.0).reshape(3, 4)),
        "be": np.arange(6, dtype=">f4").reshape(2, 3), "int": np.arange(5, dtype=np.int16), "zero_d": np.array(3.5),
    }
    for key, array in arrays.items():
        np.save(tmp_path / f"{key}.npy", array)
    paths = [tmp_path / f"{key}.npy" for key in arrays] * 40
    with ThreadPoolExecutor(8) as pool:
        loaded = list(pool.map(load_npy, paths))
    for path, array in zip(paths, loaded):
        expected = np.load(path)
        assert array.shape == expected.shape and array.dtype == expected.dtype and np.array_equal(array, expected)
