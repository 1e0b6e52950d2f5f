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
    """A small built-in dataset (60 motions + mirrors), made once per test session."""
    from remogpt.data.synth import synthesize

    out = tmp_path_factory.mktemp("synth") / "data"
    synthesize(out, 60, seed=0)
    return out


@pytest.fixture(scope="session")
def tiny_model_dir(synth_dir, tmp_path_factory) -> Path:
    """A complete ReMoGPT model directory trained end to end with the tiny presets (about a minute on 2 cores).

    Its outputs are not meaningful; it exists so tests can exercise loading, generation, captioning and serving.
    """
    from remogpt.data.folder import HumanML3DFolder
    from remogpt.language.train import make_config, train_language_model
    from remogpt.retrieval.database import RetrievalDatabase
    from remogpt.retrieval.model import PLTMR
    from remogpt.retrieval.train import retriever_config, train_retriever
    from remogpt.tokenizer.model import MotionTokenizer
    from remogpt.tokenizer.train import train_tokenizer

    work = tmp_path_factory.mktemp("tiny_model")
    tokenizer_dir = train_tokenizer(synth_dir, work / "tokenizer", "tiny", max_steps=20, progress_bar=False)
    retriever_dir = train_retriever(retriever_config("tiny", data=synth_dir, max_steps=10), work / "retriever", progress=False)
    database = RetrievalDatabase.build(
        PLTMR.from_pretrained(retriever_dir),
        HumanML3DFolder(synth_dir).samples("train"),
        retriever_dir=retriever_dir,
        data=synth_dir,
        split="train",
        encode_tokens=MotionTokenizer.from_pretrained(tokenizer_dir).encode,
    )
    database.save(work / "database")
    model_dir = work / "model"
    config = make_config(synth_dir, tokenizer_dir, work / "database", preset="tiny", pretrain_steps=5, max_steps=10)
    train_language_model(config, model_dir)
    return model_dir
