"""Shared fixtures: the real reference data in ../shared/data and a CLI runner."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
# Tests run tiny models: one intra-op thread avoids oversubscription on shared 2-core machines (5-10x faster there).
os.environ.setdefault("OMP_NUM_THREADS", "1")

SHARED_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """../shared/data (real HumanML3D pieces); tests using it skip on machines that lack it."""
    if not (SHARED_DATA / "humanml3d").is_dir():
        pytest.skip(f"real reference data not found at {SHARED_DATA} (only present in the project's CI)")
    return SHARED_DATA


@pytest.fixture(scope="session")
def humanml3d_dir(shared_data: Path) -> Path:
    return shared_data / "humanml3d"


@pytest.fixture
def run_cli(capsys):
    """Run `remogpt ARGS...` in-process; returns (exit_code, stdout, stderr)."""
    from remogpt.cli import main

    def run(*args: str) -> tuple[int, str, str]:
        capsys.readouterr()
        try:
            main([str(a) for a in args])
            code = 0
        except SystemExit as done:
            code = done.code if isinstance(done.code, int) else (0 if done.code is None else 1)
        captured = capsys.readouterr()
        return code, captured.out, captured.err

    return run


@pytest.fixture(scope="session")
def synth_dir(tmp_path_factory) -> Path:
    """A small built-in dataset (60 motions + mirrors), made once per test session; a third of the several-segment
    motions carry a timed caption, so every test that uses it goes through the span path (crops named id@start-end)."""
    from remogpt.data.synth import synthesize

    out = tmp_path_factory.mktemp("synth") / "data"
    synthesize(out, 60, seed=0, timed_share=0.35)
    return out


@pytest.fixture(scope="session")
def tiny_model_dir(synth_dir, tmp_path_factory) -> Path:
    """A complete ReMoGPT model directory made by `train all` with the tiny presets (about a minute on 2 cores).

    Its outputs are not meaningful; it exists so tests can exercise the pipeline, loading, generation, captioning,
    evaluation and serving.
    """
    from remogpt.train_all import TrainAllSettings, train_all

    settings = TrainAllSettings(
        data=str(synth_dir), out=str(tmp_path_factory.mktemp("tiny_model") / "model"), preset="tiny",
        tokenizer_steps=20, retriever_steps=10, evaluator_steps=10, lm_pretrain_steps=5, lm_steps=10, replications=2,
    )  # fmt: skip
    return train_all(settings, say=lambda _: None)


def load_bench(name: str):
    """A script of bench/ as a module (the benches are scripts, not a package), for tests of their logic."""
    import importlib.util

    path = Path(__file__).resolve().parents[1] / "bench" / f"{name}.py"
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module
