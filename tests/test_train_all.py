"""`remogpt train all`: every stage in order into one model directory, skipping what is already complete."""

from __future__ import annotations

import json

from remogpt.train_all import PIPELINE_PRESETS, TrainAllSettings, train_all

STAGES = ["statistics", "tokenizer", "retriever", "database", "evaluator", "language_model", "report"]


def test_train_all_writes_a_complete_model_directory(tiny_model_dir):
    stages = json.loads((tiny_model_dir / "stages.json").read_text())
    assert list(stages) == STAGES
    for name in ("remogpt.json", "model.safetensors", "evaluator/model.safetensors", "motion_tokenizer", "retriever", "database"):
        assert (tiny_model_dir / name).exists(), name
    report = json.loads((tiny_model_dir / "report.json").read_text())
    assert {"t2m", "m2t", "t2m_rare_test", "m2t_rare_test", "prediction", "inbetween"} <= set(report)  # the built-in data has a rare split
    assert list(report["prediction"]["rows"]) == ["real motion", "hold the last pose", "model"]
    # every table places the model against its own parts
    assert list(report["t2m"]["rows"]) == ["real motion", "tokenizer reconstruction", "retrieval only", "model"]
    assert "retrieval only" in report["m2t"]["reference_captions"]
    text = (tiny_model_dir / "report.md").read_text()
    assert "Text to motion (test split)" in text and "Text to motion (rare_test split)" in text
    assert "| tokenizer reconstruction |" in text and "| retrieval only (references: raw) |" in text


def test_train_all_skips_complete_stages(tiny_model_dir, synth_dir):
    said: list[str] = []
    train_all(TrainAllSettings(data=str(synth_dir), out=str(tiny_model_dir), preset="tiny"), say=said.append)
    assert said == [line for line in said if "complete, skipped" in line] and len(said) == len(STAGES)


def test_train_all_takes_a_stage_trained_elsewhere(tiny_model_dir, synth_dir, tmp_path):
    import shutil

    out = tmp_path / "model"
    shutil.copytree(tiny_model_dir / "runs" / "tokenizer", out / "runs" / "tokenizer")
    said: list[str] = []
    settings = TrainAllSettings(data=str(synth_dir), out=str(out), preset="tiny", retriever_steps=1, evaluator_steps=1,
                                lm_pretrain_steps=1, lm_steps=1, evaluate=False)  # fmt: skip
    train_all(settings, say=said.append)
    assert "[tokenizer] complete, skipped (found in place)" in said
    assert json.loads((out / "stages.json").read_text())["tokenizer"] == {"seconds": 0.0, "found": True}


def test_train_all_cli_rejects_an_unknown_preset(tmp_path, run_cli, synth_dir):
    code, _, err = run_cli("train", "all", "--data", synth_dir, "--out", tmp_path / "m", "--preset", "huge")
    assert code == 2 and "unknown preset 'huge'" in err


def test_the_text_guidance_stage_continues_the_language_model(tiny_model_dir, synth_dir, tmp_path, monkeypatch):
    """`--guidance-steps N`: the finished model continued with caption dropout (and the preset's task mix), text
    guidance its decoding default; the report made before is dropped (its model changed), and a second run skips
    the stage."""
    import shutil

    from remogpt.config import ReMoGPTConfig
    from remogpt.language.model import MotionLanguageModel

    out = tmp_path / "model"
    shutil.copytree(tiny_model_dir, out)
    before = MotionLanguageModel.from_pretrained(out).t5.state_dict()
    said: list[str] = []
    monkeypatch.setitem(PIPELINE_PRESETS["tiny"], "guidance_task_weights", "t2m_frames=0.25,m2t=0.3")
    train_all(TrainAllSettings(data=str(synth_dir), out=str(out), preset="tiny", guidance_steps=3, evaluate=False), say=said.append)
    assert "[text_guidance] running" in said and "[language_model] complete, skipped (0.0 s when it ran)" not in said
    config = ReMoGPTConfig.read(out)
    assert config.text_guidance == 1.0 and config.training["caption_dropout"] == 0.1 and config.training["max_steps"] == 3
    assert config.training["pretrained_stage"].endswith("text_guidance/base")
    assert config.training["task_weights"] == "t2m_frames=0.25,m2t=0.3"
    after = MotionLanguageModel.from_pretrained(out).t5.state_dict()
    assert any(not (before[k] == after[k]).all() for k in before)  # trained on from the finished model
    assert not (out / "report.md").exists() and (out / "evaluator" / "model.safetensors").is_file()
    said.clear()
    train_all(TrainAllSettings(data=str(synth_dir), out=str(out), preset="tiny", guidance_steps=3, evaluate=False), say=said.append)
    assert "[text_guidance] complete, skipped (" in " ".join(said) and not any("running" in line for line in said)
