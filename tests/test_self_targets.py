"""Best-of-N self-training targets (language/self_targets.py): written from a model, read back into stage 2."""

import json

from remogpt.data.folder import HumanML3DFolder
from remogpt.pipeline import ReMoGPT
from remogpt.retrieval.database import Exclude, clip_key


def test_excluded_clips_never_reach_the_prompt(tiny_model_dir, synth_dir):
    model = ReMoGPT.from_pretrained(tiny_model_dir)
    model.sampling.candidates = 1
    samples = HumanML3DFolder(synth_dir).samples("train")[:6]
    texts = [s.captions[0].text for s in samples]
    free = model.generate_motions(texts, seed=0)
    kept_out = model.generate_motions(texts, seed=0, exclude=[Exclude(s.motion_id, t) for s, t in zip(samples, texts)])
    # its own training caption finds the clip itself (or its mirror) for at least one text; left out, never
    assert any(clip_key(ref.motion_id) == clip_key(s.motion_id) for m, s in zip(free, samples) for ref in m.context)
    for motion, sample, text in zip(kept_out, samples, texts):
        assert motion.context, "references are still retrieved"
        assert all(clip_key(ref.motion_id) != clip_key(sample.motion_id) and ref.caption != text for ref in motion.context)


def test_self_targets_are_written_and_train_text_to_motion_only(tiny_model_dir, synth_dir, tmp_path, run_cli, monkeypatch):
    targets = tmp_path / "targets.json"
    code, out, err = run_cli(
        "train", "self-targets", "--model", tiny_model_dir, "--data", synth_dir, "--out", targets, "--candidates", "2", "--seed", "3"
    )
    assert code == 0, err
    written = json.loads(targets.read_text())
    train = HumanML3DFolder(synth_dir).samples("train")
    records = written["records"]
    assert [r["name"] for r in records] == [s.name for s in train]  # one per clip: its first caption
    assert all(r["caption"] == s.captions[0].text and r["codes"] and -1 <= r["score"] <= 1 for r, s in zip(records, train))
    assert written["provenance"]["candidates"] == 2 and "targets written" in out

    # a margin keeps only the records that beat their reference by that much
    for i, r in enumerate(records):
        r["reference_score"] = r["score"] - (-0.5 if i == 1 else 0.5)
    targets.write_text(json.dumps(written))
    from remogpt.language import data
    from remogpt.language.self_targets import read_self_targets

    assert {r["name"] for r in read_self_targets(targets, min_margin=0.1)} == {r["name"] for r in records} - {records[1]["name"]}

    seen = []
    original = data.InstructionDataset.__init__
    monkeypatch.setattr(data.InstructionDataset, "__init__", lambda self, items, *a, **k: seen.append(list(items)) or original(self, items, *a, **k))
    code, _, err = run_cli(
        "train", "lm", "--data", synth_dir, "--tokenizer", tiny_model_dir / "motion_tokenizer", "--index", tiny_model_dir / "database",
        "--out", tmp_path / "lm", "--preset", "tiny", "--pretrain-steps", "2", "--max-steps", "2", "--self-targets", targets,
    )  # fmt: skip
    assert code == 0, err
    stage1, stage2 = seen[0], seen[2]
    extra = [item for item in stage2 if item.tasks]
    assert not any(item.tasks for item in stage1) and len(stage2) == len(stage1) + len(extra) and len(extra) == len(records)
    by_name = {r["name"]: r for r in records}
    dataset = data.InstructionDataset(extra, ReMoGPT.from_pretrained(tmp_path / "lm").lm.vocabulary, fps=20, downsample_factor=4)
    for index, item in enumerate(extra):
        source = by_name[item.name.split("~")[0]]
        assert item.tokens == source["codes"] and item.captions == [source["caption"]]
        assert all(clip_key(ref.motion_id) != clip_key(item.motion_id) for ref in item.text_context[0])
        for epoch in range(3):
            example = dataset[(index, epoch)]
            assert example.query[0] == "text" and example.target == dataset.vocabulary.motion_string(item.tokens)
    assert ReMoGPT.from_pretrained(tmp_path / "lm").config.training["self_targets"].endswith("/targets.json")  # portable provenance


def test_self_target_commands_refuse_bad_input(tiny_model_dir, synth_dir, tmp_path, run_cli):
    bad = tmp_path / "bad.json"
    bad.write_text("{}")
    code, _, err = run_cli(
        "train", "lm", "--data", synth_dir, "--tokenizer", tiny_model_dir / "motion_tokenizer", "--index", tiny_model_dir / "database",
        "--out", tmp_path / "lm", "--preset", "tiny", "--self-targets", bad,
    )  # fmt: skip
    assert code == 2 and "not a self-targets file" in err and not (tmp_path / "lm").exists()
    code, _, err = run_cli("train", "self-targets", "--model", tiny_model_dir, "--data", synth_dir, "--out", tmp_path / "t.txt")
    assert code == 2 and ".json" in err
