"""ReMoGPT end to end on a tiny trained model: loading, batched generation and captioning, the CLI."""

from __future__ import annotations

import json
import os

import numpy as np
import pytest

from remogpt.pipeline import ReMoGPT


@pytest.fixture(scope="module")
def remogpt(tiny_model_dir) -> ReMoGPT:
    return ReMoGPT.from_pretrained(tiny_model_dir)


def test_model_directory_is_self_contained(tiny_model_dir):
    for name in ("remogpt.json", "config.json", "model.safetensors", "tokenizer", "motion_tokenizer", "retriever", "database"):
        assert (tiny_model_dir / name).exists(), name
    bundle = json.loads((tiny_model_dir / "remogpt.json").read_text())
    assert bundle["retrieval"] == "both" and bundle["k"] == 1 and bundle["training"]["preset"] == "tiny"


def test_save_pretrained_round_trips_a_model_directory(remogpt, tmp_path):
    """ReMoGPT.save_pretrained writes every part; the copy loads to the same model with the same decoding."""
    from remogpt.config import ReMoGPTConfig

    copy_dir = remogpt.save_pretrained(tmp_path / "copy")
    config = ReMoGPTConfig.read(copy_dir)
    assert config == remogpt.config
    for sub in config.components().values():
        assert (copy_dir / sub / "config.json").is_file(), sub
    copy = ReMoGPT.from_pretrained(copy_dir)
    original = remogpt.generate_motions(["a person waves"], seed=5)[0]
    again = copy.generate_motions(["a person waves"], seed=5)[0]
    assert again.tokens == original.tokens and again.context == original.context
    # re-saving where it lies changes nothing that loads
    copy.save_pretrained(copy_dir)
    assert ReMoGPT.from_pretrained(copy_dir).generate_motions(["a person waves"], seed=5)[0].tokens == original.tokens


def test_model_config_names_its_components(remogpt, tmp_path):
    """Sub-directories come from remogpt.json: a renamed component is found; a path that leaves the folder is refused."""
    import shutil

    from remogpt.config import ReMoGPTConfig
    from remogpt.errors import UserInputError

    moved = remogpt.save_pretrained(tmp_path / "m")
    shutil.move(moved / "retriever", moved / "pltmr")
    config = ReMoGPTConfig.read(moved)
    config.retriever = "pltmr"
    config.write(moved)
    model = ReMoGPT.from_pretrained(moved)
    assert model.database.retriever_path() == moved / "pltmr"
    assert model.generate_motions(["a person waves"], seed=0)[0].context
    config.retriever = "../elsewhere"
    config.write(moved)
    with pytest.raises(UserInputError, match="must name a sub-directory"):
        ReMoGPT.from_pretrained(moved)


def test_an_old_model_directory_still_loads(remogpt, tmp_path):
    """remogpt.json written before the component fields existed (the shipped model's format) loads unchanged."""
    old = remogpt.save_pretrained(tmp_path / "old")
    values = json.loads((old / "remogpt.json").read_text())
    for name in ("motion_tokenizer", "retriever", "database", "evaluator"):
        values.pop(name)
    (old / "remogpt.json").write_text(json.dumps(values))
    assert ReMoGPT.from_pretrained(old).generate_motions(["a person waves"], seed=1)[0].tokens


def test_a_symlinked_model_database_finds_the_retriever_beside_it(remogpt, tmp_path):
    from remogpt.retrieval.database import RetrievalDatabase

    model_dir = remogpt.save_pretrained(tmp_path / "m")
    (tmp_path / "db").symlink_to(model_dir / "database")
    assert RetrievalDatabase.load(tmp_path / "db").retriever_path().resolve() == (model_dir / "retriever").resolve()


def test_a_model_database_copied_out_without_its_retriever_is_one_sentence(remogpt, tmp_path):
    import shutil

    from remogpt.errors import UserInputError
    from remogpt.retrieval.database import RetrievalDatabase

    model_dir = remogpt.save_pretrained(tmp_path / "m")
    shutil.copytree(model_dir / "database", tmp_path / "db")
    config = json.loads((tmp_path / "db" / "config.json").read_text())
    (tmp_path / "db" / "config.json").write_text(json.dumps(dict(config, retriever="retriever")))  # as the shipped model's
    database = RetrievalDatabase.load(tmp_path / "db")
    with pytest.raises(UserInputError, match="names its retriever .* does not exist; a model directory's database uses the retriever beside it"):
        database.load_retriever()
    assert database.load_retriever(model_dir / "retriever").config.latent_dim == database.config.latent_dim


def test_generate_batches_texts_and_samples(remogpt):
    motions = remogpt.generate_motions(["a person waves", "someone jumps twice"], num_samples=2, seed=0)
    assert len(motions) == 4
    assert [m.text for m in motions] == ["a person waves"] * 2 + ["someone jumps twice"] * 2
    for motion in motions:
        assert motion.features.shape[1] == 263 and motion.joints.shape[1:] == (22, 3)
        assert len(motion.features) == 4 * len(motion.tokens)
        assert np.isfinite(motion.joints).all()
        assert len(motion.context) == 2  # k = 1 per type, text->motion + text->text


def test_generation_is_reproducible_with_a_seed(remogpt):
    first = remogpt.generate_motions(["a person waves"], seed=3)[0].tokens
    assert remogpt.generate_motions(["a person waves"], seed=3)[0].tokens == first


def test_requested_length_is_honoured(remogpt):
    short, long = remogpt.generate_motions(["a person waves", "a person waves"], lengths=[16, 120], seed=0)
    assert len(short.features) == 16 and len(long.features) == 120


def test_a_motion_without_a_length_takes_its_top1_references(remogpt, monkeypatch):
    """SamplingSettings.reference_length (the default): the prompt asks for the top-1 text->motion reference's length
    and the motion has it; a requested length still wins; off, the model ends the motion itself (plain prompt)."""
    texts = ["a person waves", "someone jumps twice", "a man walks in a circle"]
    prompts: list[str] = []
    original = remogpt.lm.generate_ids
    monkeypatch.setattr(remogpt.lm, "generate_ids", lambda p, **k: prompts.extend(p) or original(p, **k))
    assert remogpt.sampling.reference_length  # the default, also for a directory written before the option
    motions = remogpt.generate_motions(texts, lengths=[None, None, 40], seed=0)
    factor = remogpt.motion_tokenizer.config.downsample_factor
    for motion, prompt in zip(motions[:2], prompts):
        reference = next(ref for ref in motion.context if ref.kind == "text->motion")
        assert len(motion.tokens) == len(reference.codes) and len(motion.features) == len(reference.codes) * factor
        assert f"of {len(reference.codes) * factor} frames" in prompt
    assert len(motions[2].features) == 40 and "of 40 frames" in prompts[2]
    prompts.clear()
    monkeypatch.setattr(remogpt.sampling, "reference_length", False)
    remogpt.generate_motions(texts[:2], seed=0)
    assert all("frames" not in prompt for prompt in prompts)


def test_caption_returns_text_and_context(remogpt, synth_dir):
    features = [np.load(synth_dir / "new_joint_vecs" / f"{i}.npy") for i in sorted(p.stem for p in (synth_dir / "new_joint_vecs").iterdir())[:3]]
    results = remogpt.caption_motions(features)
    assert len(results) == 3
    for text, references in results:
        assert isinstance(text, str) and len(references) == 2


def test_evaluation_interface(remogpt):
    features = remogpt.generate(["a person waves"], num_samples=2)
    assert len(features) == 2 and features[0].ndim == 2
    assert isinstance(remogpt.caption(features)[0], str)


def test_generate_and_caption_cli(tmp_path, run_cli, tiny_model_dir):
    joints_path, features_path = tmp_path / "g.npy", tmp_path / "f.npy"
    code, out, err = run_cli("generate", "a person waves", "--model", tiny_model_dir, "-o", joints_path, "--seed", "1", "--show-context")
    assert code == 0, err
    assert "context (text->motion" in out and np.load(joints_path).shape[1:] == (22, 3)
    reference_tokens = int(out.split("context (text->motion")[1].split(" motion tokens]")[0].rsplit(", ", 1)[1])
    assert len(np.load(joints_path)) == 4 * min(reference_tokens, ReMoGPT.from_pretrained(tiny_model_dir).frame_range()[1] // 4)
    code, _, err = run_cli("generate", "a person waves", "--model", tiny_model_dir, "-o", joints_path, "--seed", "1", "--model-length")
    assert code == 0, err
    code, _, _ = run_cli("generate", "a person waves", "--model", tiny_model_dir, "-o", features_path, "--features", "--length", "1.0")
    assert code == 0 and np.load(features_path).shape == (20, 263)
    code, out, err = run_cli("caption", features_path, "--model", tiny_model_dir)
    assert code == 0 and out.strip(), err
    code, out, _ = run_cli("caption", joints_path, "--model", tiny_model_dir)  # joints are encoded first
    assert code == 0


@pytest.mark.parametrize(
    "args,needle",
    [
        (("generate", "   ", "-o", "{out}"), "empty"),
        (("generate", "a person waves", "-o", "{tmp}/x.txt"), "must end in"),
        (("generate", "a person waves", "-o", "{out}", "--length", "0.01"), "--length"),  # above one clip is a long motion
        (("generate", "a person waves", "-o", "{tmp}/x.gif", "--features"), "--features"),
        (("caption", "{tmp}/missing.npy"), "does not exist"),
    ],
)
def test_cli_bad_input(tmp_path, run_cli, tiny_model_dir, args, needle):
    args = [a.format(out=tmp_path / "o.npy", tmp=tmp_path) for a in args] + ["--model", str(tiny_model_dir)]
    code, _, err = run_cli(*args)
    assert code == 2 and needle in err and "Traceback" not in err
    assert not (tmp_path / "o.npy").exists()


def test_cli_reports_a_missing_model_directory(tmp_path, run_cli):
    code, _, err = run_cli("generate", "a person waves", "--model", tmp_path / "nothing", "-o", tmp_path / "o.npy")
    assert code == 2 and "does not exist" in err


def test_model_directory_serves_retrieval_without_its_training_paths(tmp_path, run_cli, tiny_model_dir):
    """A copied model directory (e.g. the shipped one) finds its own retriever, not the path it was trained from."""
    import shutil

    moved = tmp_path / "moved"
    shutil.copytree(tiny_model_dir, moved)
    config_path = moved / "database" / "config.json"
    config = json.loads(config_path.read_text())
    config["retriever"] = str(tmp_path / "gone")
    config_path.write_text(json.dumps(config))
    code, out, err = run_cli("retrieve", "a person waves", "--index", moved, "--k", "2")
    assert code == 0, err
    assert "text->motion" in out and "text->text" in out
    assert ReMoGPT.from_pretrained(moved).generate_motions(["a person waves"], seed=0)[0].context


def test_export_model_keeps_what_inference_needs(tmp_path, run_cli, tiny_model_dir):
    code, out, err = run_cli("export", "model", tiny_model_dir, "-o", tmp_path / "shared")
    assert code == 0, err
    exported = tmp_path / "shared"
    assert not (exported / "runs").exists() and not (exported / "stages").exists()
    assert not list(exported.rglob("*.ckpt")) and not (exported / "motion_tokens.json").exists()
    assert (exported / "evaluator" / "model.safetensors").is_file() and (exported / "report.md").is_file()
    original = ReMoGPT.from_pretrained(tiny_model_dir).generate_motions(["a person waves"], seed=3)[0]
    copy = ReMoGPT.from_pretrained(exported).generate_motions(["a person waves"], seed=3)[0]
    assert copy.tokens == original.tokens and copy.context == original.context
    code, _, err = run_cli("export", "model", tmp_path / "shared", "-o", tmp_path / "shared" / "inside")
    assert code == 2 and "outside the model directory" in err
    code, _, err = run_cli("export", "model", tmp_path, "-o", tmp_path / "x")
    assert code == 2 and "not a ReMoGPT model directory" in err
    # the target is replaced only when it is an earlier export or empty; a user's folder is never deleted
    keep = tmp_path / "mine"
    keep.mkdir()
    (keep / "notes.txt").write_text("mine")
    code, _, err = run_cli("export", "model", tiny_model_dir, "-o", keep)
    assert code == 2 and "not a ReMoGPT model directory" in err and (keep / "notes.txt").read_text() == "mine"
    code, _, err = run_cli("export", "model", tiny_model_dir, "-o", tiny_model_dir.parent)
    assert code == 2 and (tiny_model_dir / "remogpt.json").is_file()
    code, _, err = run_cli("export", "model", tiny_model_dir, "-o", tmp_path / "shared")  # over an earlier export
    assert code == 0, err


def test_reference_rows_come_from_the_models_own_parts(remogpt, synth_dir):
    """reconstruct = tokenizer round trip (decoded as every motion of the model: feet held); retrieve_* = the top-1
    reference the prompt would hold."""
    from remogpt.data.folder import HumanML3DFolder
    from remogpt.motion.foot_contact import plant_feet

    samples = HumanML3DFolder(synth_dir).samples("test")[:3]
    motions = [s.features[:40] for s in samples]
    rebuilt = remogpt.reconstruct(motions)
    assert [r.shape for r in rebuilt] == [m.shape for m in motions]
    round_trip = remogpt.motion_tokenizer.decode(remogpt.motion_tokenizer.encode(motions))
    assert all(np.allclose(a, plant_feet(b), atol=1e-5) for a, b in zip(rebuilt, round_trip))
    assert not np.allclose(rebuilt[0], motions[0])  # through the codebook, not a copy
    texts = [s.captions[0].text for s in samples]
    retrieved = remogpt.retrieve_motions(texts)
    top = remogpt.context.for_texts(texts)
    factor = remogpt.motion_tokenizer.config.downsample_factor
    for motion, refs in zip(retrieved, top):
        assert len(motion) == factor * len(refs[0].codes)  # the first (text->motion) reference
    captions = remogpt.retrieve_captions(motions)
    assert captions == [refs[0].caption for refs in remogpt.context.for_motions(motions)]


def test_candidates_keep_the_sample_the_retriever_ranks_first(remogpt):
    texts = ["a person walks forward", "someone jumps"]
    remogpt.sampling.candidates = 1
    pool = remogpt.generate_motions(texts, num_samples=4, seed=3)  # the same draws the reranker sees
    scores = np.einsum(
        "td,tcd->tc", remogpt.retriever.embed_texts(texts),
        remogpt.retriever.embed_motions([m.features for m in pool]).reshape(2, 4, -1),
    )  # fmt: skip
    try:
        remogpt.sampling.candidates = 4
        kept = remogpt.generate_motions(texts, num_samples=1, seed=3)
    finally:
        remogpt.sampling.candidates = 1
    assert [m.text for m in kept] == texts
    for t, motion in enumerate(kept):
        assert motion.tokens == pool[t * 4 + int(scores[t].argmax())].tokens
    remogpt.sampling.candidates = 0
    try:
        with pytest.raises(Exception, match="candidates"):
            remogpt.generate_motions(texts)
    finally:
        remogpt.sampling.candidates = 1


def test_reference_spread_samples_each_texts_candidates_from_its_next_references_too(remogpt, monkeypatch):
    """With spread 2 a text's candidates come from two prompts (its top-1 references, then the next ones), half each;
    the reranker sees every (text, sample) group's candidates from both prompts, and a kept motion names the
    references its own prompt held."""
    texts, spread = ["a person walks forward", "someone jumps"], 2
    ranked = remogpt.context.ranked_for_texts(texts, spread)
    plain = remogpt.database.search(remogpt.retriever.embed_texts(texts), "text", k={"text->motion": 2, "text->text": 2},
                                    targets=("motion", "text"))
    for alternatives, result in zip(ranked, plain):  # (a k=1 search may break a tie between a clip and its mirror the other way)
        for p in range(spread):
            assert [r.name for r in alternatives[p]] == [result["text->motion"][p].name, result["text->text"][p].name]
    vocabulary, calls, seen = remogpt.lm.vocabulary, [], {}

    def fake_generate(prompts, num_samples, min_motion_tokens, **_):  # row identity as its first two codes
        first = sum(len(p) for p in calls)
        calls.append(prompts)
        return [[vocabulary.first_motion_id + c for c in [first + j, r] + [0] * (n - 2)]
                for j, n in enumerate(min_motion_tokens) for r in range(num_samples)]

    from remogpt.pipeline import _best_of_groups as best_of_groups

    decoded = remogpt._decoded
    monkeypatch.setattr(remogpt.lm, "generate_ids", fake_generate)
    monkeypatch.setattr(remogpt, "_decoded", lambda codes: seen.setdefault("codes", codes) and decoded(codes))
    monkeypatch.setattr("remogpt.pipeline._best_of_groups", lambda q, rows, group: seen.setdefault("kept", best_of_groups(q, rows, group)))
    monkeypatch.setattr(remogpt.sampling, "candidates", 4)
    monkeypatch.setattr(remogpt.sampling, "reference_spread", spread)
    motions = remogpt.generate_motions(texts, [40, 40], num_samples=2, seed=0)
    prompts = calls[0]
    assert len(prompts) == 4 and ranked[0][1][0].caption in prompts[1] and ranked[1][0][0].caption in prompts[2]
    groups = [tuple(codes[:2]) for codes in seen["codes"]]
    assert groups[:8] == [(0, 0), (0, 1), (1, 0), (1, 1), (0, 2), (0, 3), (1, 2), (1, 3)]  # text 0: sample 0, sample 1
    assert groups[8:12] == [(2, 0), (2, 1), (3, 0), (3, 1)]
    assert [m.text for m in motions] == [t for t in texts for _ in range(2)]
    for motion, kept in zip(motions, seen["kept"]):
        prompt = groups[kept][0]
        assert motion.tokens[:2] == list(groups[kept]) and motion.context == ranked[prompt // 2][prompt % 2]
    monkeypatch.setattr(remogpt.sampling, "reference_spread", 3)
    with pytest.raises(Exception, match="divides the candidates"):
        remogpt.generate_motions(texts)


def test_motion_sampling_runs_in_bounded_calls(remogpt, monkeypatch):
    """Texts x samples x candidates rows are sampled in calls of at most MAX_MOTION_ROWS (each row holds a KV cache):
    every call gets its own prompts' lengths and guidance prompts, and the motions come back in text order."""
    texts, lengths = ["a person waves", "someone jumps twice", "a man walks in a circle"], [16, None, 40]
    calls = []
    generate_ids = remogpt.lm.generate_ids
    monkeypatch.setattr(remogpt.lm, "generate_ids", lambda p, **k: calls.append((len(p), len(k["guidance_prompts"]))) or generate_ids(p, **k))
    monkeypatch.setattr(remogpt.sampling, "candidates", 2)
    monkeypatch.setattr(remogpt.sampling, "text_guidance", 1.0)
    whole = remogpt.generate_motions(texts, lengths, num_samples=2, seed=0)
    assert calls == [(3, 3)]
    calls.clear()
    monkeypatch.setattr("remogpt.pipeline.MAX_MOTION_ROWS", 8)  # two texts' 2 x 2 rows per call
    bounded = remogpt.generate_motions(texts, lengths, num_samples=2, seed=0)
    assert calls == [(2, 2), (1, 1)]
    assert [m.text for m in bounded] == [m.text for m in whole] == [t for t in texts for _ in range(2)]
    assert [len(m.features) for m in bounded] == [len(m.features) for m in whole]
    assert len(bounded[0].features) == 16 and len(bounded[-1].features) == 40


def test_caption_candidates_keep_the_beam_the_retriever_ranks_first(remogpt, synth_dir, monkeypatch):
    from remogpt.language.prompts import build_prompt, first_instruction

    names = sorted(p.stem for p in (synth_dir / "new_joint_vecs").iterdir())[:4]
    features = [np.load(synth_dir / "new_joint_vecs" / f"{name}.npy") for name in names]
    vocabulary = remogpt.lm.vocabulary
    prompts = [
        build_prompt(first_instruction("m2t", motion=vocabulary.motion_string(codes)), refs)
        for codes, refs in zip(remogpt.motion_tokenizer.encode(features), remogpt.context.for_motions(features))
    ]
    beams = [vocabulary.text(row) for row in remogpt.lm.generate_ids(prompts, motion=False, do_sample=False, num_beams=4, num_samples=4)]
    motion_embeddings = remogpt.retriever.embed_motions(features)
    scores = np.einsum("md,mcd->mc", motion_embeddings, remogpt.retriever.embed_texts(beams).reshape(4, 4, -1))
    assert (scores.argmax(1) != scores.argmin(1)).any()  # the beams differ, so the choice means something
    monkeypatch.setattr(remogpt.sampling, "caption_candidates", 4)
    expected = [beams[m * 4 + int(b)] for m, b in enumerate(scores.argmax(1))]
    assert remogpt.caption(features) == expected
    calls = []
    generate_ids = remogpt.lm.generate_ids
    monkeypatch.setattr(remogpt.lm, "generate_ids", lambda prompts, **k: calls.append(len(prompts)) or generate_ids(prompts, **k))
    monkeypatch.setattr("remogpt.pipeline.MAX_CAPTION_ROWS", 8)  # two motions' beams per call: the same captions
    assert remogpt.caption(features) == expected and calls == [2, 2]
    embed_texts = remogpt.retriever.embed_texts  # a retriever that ranks the other way round picks the other end
    monkeypatch.setattr(remogpt.retriever, "embed_texts", lambda texts: -embed_texts(texts))
    assert remogpt.caption(features) == [beams[m * 4 + int(b)] for m, b in enumerate(scores.argmin(1))]


def test_caption_candidates_are_a_model_default_and_an_option(tiny_model_dir, synth_dir, tmp_path, run_cli, monkeypatch):
    import json
    import shutil

    from remogpt.language.model import MotionLanguageModel

    copy = tmp_path / "model"
    shutil.copytree(tiny_model_dir, copy)
    config = json.loads((copy / "remogpt.json").read_text())
    (copy / "remogpt.json").write_text(json.dumps({**config, "caption_candidates": 3}))
    assert ReMoGPT.from_pretrained(copy).sampling.caption_candidates == 3
    assert ReMoGPT.from_pretrained(tiny_model_dir).sampling.caption_candidates == 1  # the top beam unless told
    motion = tmp_path / "m.npy"
    np.save(motion, np.load(sorted((synth_dir / "new_joint_vecs").glob("*.npy"))[0]))
    calls = []
    original = MotionLanguageModel.generate_ids
    monkeypatch.setattr(MotionLanguageModel, "generate_ids", lambda self, prompts, **k: calls.append(k) or original(self, prompts, **k))
    for extra, count in (((), 3), (("--candidates", "2"), 2), (("--candidates", "1"), 1)):
        code, _, err = run_cli("caption", motion, "--model", copy, *extra)
        assert code == 0, err
        assert calls[-1]["num_samples"] == count and calls[-1]["num_beams"] == count
    code, _, err = run_cli("caption", motion, "--model", copy, "--candidates", "0")
    assert code == 2 and "caption candidates" in err and "Traceback" not in err


def test_reference_anchor_moves_samples_toward_the_top1_reference(remogpt, monkeypatch):
    """SamplingSettings.reference_anchor: 0 samples plainly; a large weight writes the top-1 text->motion reference's
    codes, where that reference is at least anchor_min_similarity close; a weight outside [0, 20] is one sentence."""
    from remogpt.errors import UserInputError

    texts = ["a person waves", "someone jumps twice"]

    def shared_codes(weight: float) -> float:
        monkeypatch.setattr(remogpt.sampling, "reference_anchor", weight)
        motions = remogpt.generate_motions(texts, num_samples=2, seed=0)
        same = [np.mean(np.equal(m.tokens, next(r for r in m.context if r.kind == "text->motion").codes)) for m in motions]
        return float(np.mean(same))

    assert shared_codes(20.0) == 1.0
    assert shared_codes(0.0) < 1.0
    monkeypatch.setattr(remogpt.sampling, "anchor_min_similarity", 1.0)  # no neighbour is that close: no anchor
    assert shared_codes(20.0) < 1.0
    monkeypatch.setattr(remogpt.sampling, "anchor_min_similarity", -1.0)
    assert shared_codes(20.0) == 1.0
    monkeypatch.setattr(remogpt.sampling, "reference_anchor", -1.0)
    with pytest.raises(UserInputError, match="reference anchor"):
        remogpt.sampling.check()


def test_bad_seed_and_sampling_settings_are_one_sentence(remogpt, run_cli, tiny_model_dir, tmp_path):
    from remogpt.errors import UserInputError

    with pytest.raises(UserInputError, match="seed"):
        remogpt.generate_motions(["a person walks"], seed=2**70)
    out = tmp_path / "o.npy"
    for args, needle in ((("--top-p", "5"), "top-p"), (("--temperature", "nan"), "temperature"), (("--top-k", "-5"), "top-k"), (("--reference-anchor", "-1"), "reference anchor")):
        code, _, err = run_cli("generate", "a person walks", "-o", out, "--model", tiny_model_dir, *args)
        assert code == 2 and needle in err and "Traceback" not in err and not out.exists()
    code, _, err = run_cli("caption", tmp_path / "m.npy", "--model", tiny_model_dir, "--beams", "0")
    assert code == 2


@pytest.mark.parametrize(
    "call, needle",
    [
        (lambda m: m.generate_motions("a person walks"), "list of prompts"),
        (lambda m: m.generate_motions([None]), "must be a string"),
        (lambda m: m.generate_motions(["a \udcff walks"]), "UTF-8"),
        (lambda m: m.generate_motions(["a person walks"], num_samples=0), "num_samples"),
        (lambda m: m.generate_motions(["a person walks", "someone jumps"], [40]), "one length"),
        (lambda m: m.generate_motions(["a person walks"], [10**6]), "requested length"),
        (lambda m: m.generate_motions(["a person walks"], [-40]), "requested length"),
    ],
)
def test_library_inputs_are_checked_before_any_work(remogpt, call, needle):
    from remogpt.errors import UserInputError

    with pytest.raises(UserInputError, match=needle):
        call(remogpt)


@pytest.mark.parametrize(
    "damage, needle",
    [
        (lambda d: _edit_json(d / "remogpt.json", k="three"), "k must be int"),
        (lambda d: _edit_json(d / "motion_tokenizer" / "config.json", codebook_size=-5), "does not describe a valid model"),
        (lambda d: (d / "tokenizer" / "tokenizer.json").write_bytes(os.urandom(200)), "cannot be read"),
        (lambda d: (d / "database" / "text.faiss").write_bytes(os.urandom(200)), "is not a FAISS index"),
    ],
)
def test_a_damaged_model_directory_is_one_sentence_naming_the_file(tiny_model_dir, tmp_path, run_cli, damage, needle):
    import shutil

    broken = tmp_path / "broken"
    shutil.copytree(tiny_model_dir, broken)
    damage(broken)
    code, _, err = run_cli("generate", "a person waves", "--model", broken, "-o", tmp_path / "o.npy")
    assert code == 2 and needle in err and str(broken) in err, err
    assert not (tmp_path / "o.npy").exists()


def _edit_json(path, **changes):
    values = json.loads(path.read_text())
    values.update(changes)
    path.write_text(json.dumps(values))


def test_predict_continues_and_inbetween_bridges_motions(remogpt, tiny_model_dir, synth_dir, tmp_path, run_cli):
    """Prediction and in-betweening (trained tasks) as a library call and a command: lengths as asked, the given
    motions kept at the ends (through the tokenizer), bad inputs one sentence."""
    from remogpt.data.folder import HumanML3DFolder
    from remogpt.errors import UserInputError

    samples = HumanML3DFolder(synth_dir).samples("train")[:2]
    starts = [s.features[:32] for s in samples]
    factor = remogpt.motion_tokenizer.config.downsample_factor
    continued = remogpt.predict(starts, frames=40, seed=0)
    start_codes = remogpt.motion_tokenizer.encode(starts)
    for motion, codes in zip(continued, start_codes):
        assert motion.tokens[: len(codes)] == list(codes) and len(motion.tokens) == len(codes) + 40 // factor
        assert motion.features.shape == (factor * len(motion.tokens), 263) and np.isfinite(motion.joints).all()
    assert remogpt.predict(starts, frames=40, seed=0)[0].tokens == continued[0].tokens  # seeded
    ends = [s.features[-32:] for s in samples]
    bridged = remogpt.inbetween(starts, ends, frames=24, seed=0)
    for motion, head, tail in zip(bridged, start_codes, remogpt.motion_tokenizer.encode(ends)):
        assert motion.tokens[: len(head)] == list(head) and motion.tokens[-len(tail):] == list(tail)
        assert len(motion.tokens) == len(head) + 24 // factor + len(tail)
    with pytest.raises(UserInputError, match="one end per start"):
        remogpt.inbetween(starts, ends[:1])
    with pytest.raises(UserInputError, match="must be features"):
        remogpt.predict([np.zeros((2, 263), np.float32)])

    np.save(tmp_path / "start.npy", starts[0])
    np.save(tmp_path / "end.npy", ends[0])
    code, out, err = run_cli("predict", tmp_path / "start.npy", "-o", tmp_path / "p.npy", "--seconds", "2", "--seed", "1", "--model", tiny_model_dir)
    assert code == 0, err
    assert np.load(tmp_path / "p.npy").shape == ((len(start_codes[0]) + 40 // factor) * factor, 22, 3)
    code, out, err = run_cli("inbetween", tmp_path / "start.npy", tmp_path / "end.npy", "-o", tmp_path / "b.npy", "--features", "--model", tiny_model_dir)
    assert code == 0 and np.load(tmp_path / "b.npy").shape[1] == 263, err
    code, _, err = run_cli("predict", tmp_path / "start.npy", "-o", tmp_path / "q.npy", "--seconds", "60", "--model", tiny_model_dir)
    assert code == 2 and "--seconds must be between" in err and not (tmp_path / "q.npy").exists()


def test_a_model_trained_with_start_context_prompts_prediction_with_it(remogpt, synth_dir, monkeypatch):
    """ReMoGPTConfig.motion_task_context: prediction and in-between prompts hold references retrieved with the given
    start (decoded) as the query; without it (the tiny model's default), none."""
    from remogpt.data.folder import HumanML3DFolder

    seen: list[str] = []
    original = remogpt._sample_codes
    monkeypatch.setattr(remogpt, "_sample_codes", lambda prompts, frames, seed: seen.extend(prompts) or original(prompts, frames, seed))
    starts = [s.features[:32] for s in HumanML3DFolder(synth_dir).samples("train")[:2]]
    remogpt.predict(starts, frames=16, seed=0)
    assert seen and all("### Context:" not in p for p in seen)
    seen.clear()
    monkeypatch.setattr(remogpt.config, "motion_task_context", True)
    remogpt.predict(starts, frames=16, seed=0)
    remogpt.inbetween(starts, starts, frames=16, seed=0)
    assert len(seen) == 4 and all("### Context:" in p for p in seen)
    expected = remogpt.context.for_motions(remogpt.motion_tokenizer.decode(remogpt.motion_tokenizer.encode(starts[:1])))[0]
    assert all(f"Text: {ref.caption} " in seen[0] for ref in expected)


def test_train_lm_with_start_context_writes_it_into_the_model(tiny_model_dir, synth_dir, tmp_path, run_cli, monkeypatch):
    from remogpt.language import data

    weights = []  # the task mix of each stage's training set (stage 1 the defaults, stage 2 with --task-weights)
    original = data.InstructionDataset.__init__
    monkeypatch.setattr(data.InstructionDataset, "__init__", lambda self, *a, **k: weights.append(k.get("task_weights")) or original(self, *a, **k))
    code, _, err = run_cli(
        "train", "lm", "--data", synth_dir, "--tokenizer", tiny_model_dir / "motion_tokenizer", "--index", tiny_model_dir / "database",
        "--out", tmp_path / "lm", "--preset", "tiny", "--pretrain-steps", "2", "--max-steps", "2", "--motion-task-context",
        "--task-weights", "t2m=0.1,t2m_frames=0.35",
    )  # fmt: skip
    assert code == 0, err
    model = ReMoGPT.from_pretrained(tmp_path / "lm")
    assert model.config.motion_task_context and model.config.training["motion_task_context"]
    assert model.config.training["task_weights"] == "t2m=0.1,t2m_frames=0.35"
    assert weights[0] is None and weights[2]["t2m"] == 0.1 and weights[2]["t2m_frames"] == 0.35 and weights[2]["m2t"] == 0.4
    assert ReMoGPT.from_pretrained(tiny_model_dir).config.motion_task_context is False  # the default: MotionGPT's prompts
