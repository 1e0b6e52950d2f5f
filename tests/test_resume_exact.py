"""Kill a training run mid-epoch, resume it, and it ends with exactly the weights of a run that was never stopped:
batches follow (seed, epoch) and skip what the run had trained on, per-epoch draws follow the sampler's epoch, and
per-step randomness (dropout, corruption) is seeded from (seed, step). The tokenizer's own test is in
test_tokenizer_train.py; here the retriever, the evaluator and the language model."""

from __future__ import annotations

import lightning
import pytest
import torch

KILL_AT = 8  # steps; validation (and a checkpoint) every 5, so the run resumes from step 5, mid-epoch


class Killed(Exception):
    pass


def _train(stage: str, synth_dir, tiny_model_dir, out):
    if stage == "retriever":
        from remogpt.retrieval.train import make_config, train_retriever

        train_retriever(make_config("tiny", data=synth_dir, max_steps=12, val_every=5), out, progress=False)
        return out / "checkpoints" / "last.ckpt"
    if stage == "evaluator":
        from remogpt.evaluation.train import make_config, train_evaluator

        train_evaluator(make_config("tiny", data=synth_dir, max_steps=12, val_every=5), out, progress=False)
        return out / "checkpoints" / "last.ckpt"
    from remogpt.language.train import make_config, train_language_model

    config = make_config(
        "tiny", data=synth_dir, tokenizer=tiny_model_dir / "motion_tokenizer", index=tiny_model_dir / "database",
        pretrain_steps=4, max_steps=12, val_every=5, batch_size=4,
    )  # fmt: skip
    train_language_model(config, out)
    return out / "stages" / "instruct" / "checkpoints" / "last.ckpt"


@pytest.mark.parametrize("stage", ["retriever", "evaluator", "language model"])
def test_a_killed_and_resumed_run_ends_like_an_uninterrupted_one(stage, synth_dir, tiny_model_dir, tmp_path, monkeypatch):
    straight = torch.load(_train(stage, synth_dir, tiny_model_dir, tmp_path / "straight"), weights_only=True)

    def die(module, *args):
        stage_two = not hasattr(module, "model") or "instruct" in str(module.trainer.default_root_dir) or stage != "language model"
        if module.trainer.global_step == KILL_AT and stage_two:
            raise Killed

    with monkeypatch.context() as patch:
        patch.setattr(lightning.LightningModule, "on_train_batch_end", die)
        with pytest.raises(Killed):
            _train(stage, synth_dir, tiny_model_dir, tmp_path / "resumed")
    torch.manual_seed(4321)  # whatever happened in between must not matter
    resumed = torch.load(_train(stage, synth_dir, tiny_model_dir, tmp_path / "resumed"), weights_only=True)
    assert straight["global_step"] == resumed["global_step"] == 12
    for name, value in straight["state_dict"].items():
        assert torch.equal(value, resumed["state_dict"][name]), name
