"""bench/ablation_lm_retrieval.py trains each retrieval setting's text-guidance stage as `train all` does."""

from __future__ import annotations

from remogpt.train_all import PIPELINE_PRESETS

from conftest import load_bench


def options(args: list) -> dict:
    return {str(name): str(value) for name, value in zip(args[::2], args[1::2])}


def test_the_guidance_stage_takes_the_presets_steps_lr_and_task_mix(monkeypatch):
    bench = load_bench("ablation_lm_retrieval")
    monkeypatch.setitem(PIPELINE_PRESETS["tiny"], "guidance_steps", 7)
    monkeypatch.setitem(PIPELINE_PRESETS["tiny"], "guidance_lr", 3e-4)
    monkeypatch.setitem(PIPELINE_PRESETS["tiny"], "guidance_task_weights", "t2m_frames=0.25,m2t=0.3")
    got = options(bench.guidance_args("tiny", None, 2))
    assert got == {"--preset": "tiny", "--max-steps": "7", "--lr": "0.0003", "--task-weights": "t2m_frames=0.25,m2t=0.3",
                   "--caption-dropout": str(PIPELINE_PRESETS["tiny"]["caption_dropout"]),
                   "--text-guidance": str(PIPELINE_PRESETS["tiny"]["text_guidance"]), "--seed": "2"}  # fmt: skip


def test_the_default_mix_adds_no_option_and_zero_steps_no_stage(monkeypatch):
    bench = load_bench("ablation_lm_retrieval")
    monkeypatch.setitem(PIPELINE_PRESETS["tiny"], "guidance_steps", 7)
    monkeypatch.setitem(PIPELINE_PRESETS["tiny"], "guidance_task_weights", "")
    assert "--task-weights" not in options(bench.guidance_args("tiny", None, None))
    assert bench.guidance_args("tiny", 0, None) == []
