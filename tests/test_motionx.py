"""Motion-X's HumanML3D-format release read as published (issue 18): body-only features in
motion_data/vector_263/, plain-sentence captions in texts/semantic_labels/, ids that name sub-folders
(humanml/000001, fitness/subset_0001/Plank_clip_3), its own Mean/Std; checked, loaded and trained on."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest

from remogpt.data.folder import HumanML3DFolder, detect_layout, is_mirror, mirror_id, parse_caption_line
from remogpt.errors import UserInputError
from remogpt.retrieval.database import clip_key

# the built-in clip each fabricated Motion-X id takes its motion from; the humanml subset keeps HumanML3D's mirrors
SOURCES = {"humanml/000000": "000000", "humanml/M000000": "M000000", "humanml/000002": "000002",
           "humanml/M000002": "M000002"}  # fmt: skip


def make_motionx(synth: Path, out: Path) -> dict[str, str]:
    """A Motion-X-layout folder from the built-in one: every clip under a sub-folder id, captions as plain lines."""
    folder = HumanML3DFolder(synth)
    names: dict[str, str] = dict(SOURCES)
    for n, source in enumerate(i for i in folder.ids("all") if i not in SOURCES.values()):
        subset = ("humanml", "fitness/subset_0001", "animation/subset_0000")[n % 3]
        name = source if subset == "humanml" else f"Move_{source}_clip_{n}"
        names[f"{subset}/{name}"] = source
    for motion_id, source in names.items():
        features = out / "motion_data" / "vector_263" / f"{motion_id}.npy"
        features.parent.mkdir(parents=True, exist_ok=True)
        np.save(features, folder.load_features(source))
        text = out / "texts" / "semantic_labels" / f"{motion_id}.txt"
        text.parent.mkdir(parents=True, exist_ok=True)
        text.write_text("\n".join(c.text for c in folder.load_captions(source) if c.is_whole_clip) + "\n")
    for name in ("Mean.npy", "Std.npy"):
        shutil.copy(synth / name, out / name)
    by_source = {source: motion_id for motion_id, source in names.items()}
    for split in ("train", "val", "test", "all"):
        ids = [by_source[i] for i in folder.ids(split)]
        (out / f"{split}.txt").write_text("\n".join(ids) + "\n")
    return names


@pytest.fixture(scope="module")
def motionx(synth_dir, tmp_path_factory) -> tuple[Path, dict[str, str]]:
    out = tmp_path_factory.mktemp("motionx") / "Motion-X"
    return out, make_motionx(synth_dir, out)


def test_the_layout_is_recognised_and_the_clips_read_as_published(motionx, synth_dir):
    root, names = motionx
    layout = detect_layout(root)
    assert layout.name == "Motion-X" and layout.features_dir == "motion_data/vector_263"
    assert layout.texts_dir == "texts/semantic_labels"
    assert detect_layout(synth_dir).name == "HumanML3D"

    folder, source = HumanML3DFolder(root), HumanML3DFolder(synth_dir)
    assert folder.feature_dim == 263 and folder.fps == 20.0
    assert sorted(folder.ids(None)) == sorted(names)  # no split file asked: every feature file, sub-folders included
    motion_id = next(i for i in names if i.startswith("fitness/"))
    np.testing.assert_array_equal(folder.load_features(motion_id), source.load_features(names[motion_id]))
    captions = folder.load_captions(motion_id)
    assert [c.text for c in captions] == [c.text for c in source.load_captions(names[motion_id]) if c.is_whole_clip]
    # plain sentences get word/POS tokens (the evaluator's text encoder reads them)
    assert all(c.tokens and all("/" in t for t in c.tokens) and c.is_whole_clip for c in captions)
    assert len(folder.samples("train")) == sum(1 for s in source.samples("train") if s.name == s.motion_id)


def test_mirrors_pair_by_file_name_inside_sub_folders():
    assert mirror_id("humanml/000021") == "humanml/M000021" and mirror_id("humanml/M000021") == "humanml/000021"
    assert is_mirror("humanml/M000021") and not is_mirror("humanml/000021")
    assert clip_key("humanml/M000021") == clip_key("humanml/000021") == "humanml/000021"
    assert mirror_id("M000021") == "000021" and clip_key("M000021") == "000021"  # HumanML3D unchanged


def test_plain_caption_lines_only_where_the_layout_has_them():
    caption = parse_caption_line("A person jumps  forward.", plain=True)
    assert caption.text == "A person jumps forward." and caption.is_whole_clip
    assert caption.tokens[:3] == ["a/DET", "person/NOUN", "jump/VERB"]
    with pytest.raises(UserInputError, match="'#'-separated fields"):
        parse_caption_line("A person jumps forward.")  # a HumanML3D line must keep its four fields
    with pytest.raises(UserInputError, match="empty caption"):
        parse_caption_line("   ", plain=True)


def test_data_check_names_what_differs_and_finds_no_problem(motionx, run_cli):
    root, _ = motionx
    code, out, _ = run_cli("data", "check", root)
    assert code == 0, out
    assert "note: Motion-X layout: features in motion_data/vector_263/" in out
    assert "ids name sub-folders" in out and "no problems found" in out


def test_data_check_reports_a_missing_caption_by_its_sub_folder_id(motionx, tmp_path, run_cli):
    root, names = motionx
    copy = tmp_path / "mx"
    shutil.copytree(root, copy)
    motion_id = next(i for i in names if i.startswith("animation/"))
    (copy / "texts" / "semantic_labels" / f"{motion_id}.txt").unlink()
    code, out, _ = run_cli("data", "check", copy)
    assert code == 1
    assert f"motion has no caption file texts/semantic_labels/{motion_id}.txt." in out


def test_whole_body_features_get_one_sentence_naming_the_conversion(tmp_path):
    root = tmp_path / "mx"
    (root / "new_joint_vecs" / "humanml").mkdir(parents=True)
    np.save(root / "new_joint_vecs" / "humanml" / "000001.npy", np.zeros((50, 623), np.float32))
    with pytest.raises(UserInputError, match="transfer_to_body_only_humanml.py"):
        HumanML3DFolder(root).feature_dim


def test_a_motionx_folder_trains_with_train_all_tiny(motionx, tmp_path):
    from remogpt.pipeline import ReMoGPT
    from remogpt.train_all import TrainAllSettings, train_all

    root, names = motionx
    out = train_all(TrainAllSettings(
        data=str(root), out=str(tmp_path / "model"), preset="tiny", tokenizer_steps=4, retriever_steps=4,
        evaluator_steps=4, lm_pretrain_steps=2, lm_steps=2, replications=1,
    ), say=lambda _: None)  # fmt: skip
    assert (out / "report.md").is_file()
    model = ReMoGPT.from_pretrained(out)
    # the database holds the training clips by their Motion-X ids, sub-folders and all
    assert set(model.database.motion_names) <= set(names) and any("/" in n for n in model.database.motion_names)
    motion = model.generate_motions(["a person walks forward"], seed=0)[0]
    assert motion.features.shape[1] == 263 and motion.context


@pytest.fixture(scope="module")
def motionx_database(motionx, tiny_model_dir, tmp_path_factory) -> Path:
    """The Motion-X folder indexed with the tiny model's own retriever and tokenizer."""
    from remogpt.cli import main

    root, _ = motionx
    out = tmp_path_factory.mktemp("mxdb") / "db"
    with pytest.raises(SystemExit) as done:
        main(["index", "build", "--retriever", str(tiny_model_dir / "retriever"), "--data", str(root), "--out", str(out),
              "--split", "all", "--tokenizer", str(tiny_model_dir / "motion_tokenizer")])  # fmt: skip
    assert done.value.code in (0, None)
    return out


def test_another_dataset_as_the_database_at_inference(tiny_model_dir, motionx_database, motionx, tmp_path, run_cli):
    """The paper's Motion-X-as-database experiment: a model trained on one dataset, references from another."""
    from remogpt.pipeline import ReMoGPT

    _, names = motionx
    model = ReMoGPT.from_pretrained(tiny_model_dir)
    own = model.generate_motions(["a person walks forward"], seed=0)[0].context
    assert own and all("/" not in r.motion_id for r in own)
    model.use_database(motionx_database)
    swapped = model.generate_motions(["a person walks forward"], seed=0)[0].context
    assert swapped and all(r.motion_id in names for r in swapped)
    assert model.caption_motions([model.generate_motions(["a person jumps"], seed=1)[0].features])[0][1]

    code, out, err = run_cli("generate", "a person walks forward", "-o", tmp_path / "walk.npy", "--model", tiny_model_dir,
                             "--database", motionx_database, "--show-context", "--seed", "0")  # fmt: skip
    assert code == 0, err
    assert (tmp_path / "walk.npy").is_file()
    code, out, err = run_cli("evaluate", "t2m", "--data", motionx[0], "--model", tiny_model_dir, "--database", motionx_database,
                             "--evaluator", tiny_model_dir / "evaluator", "--replications", "1", "--mm-generations", "2",
                             "--no-rare", "--no-reference-rows", "--out", tmp_path / "t2m.json")  # fmt: skip
    assert code == 0, err
    import json

    assert json.loads((tmp_path / "t2m.json").read_text())["provenance"]["database"].endswith("db")


def test_a_database_of_another_retriever_or_without_tokens_is_refused(tiny_model_dir, motionx, motionx_database, tmp_path, run_cli):
    from remogpt.pipeline import ReMoGPT
    from remogpt.shipped import model_dir_or_shipped

    root, _ = motionx
    # same width, other numbers: the stored caption embeddings are compared with what the model computes
    shifted = tmp_path / "shifted"
    shutil.copytree(motionx_database, shifted)
    embeddings = np.load(shifted / "text_embeddings.npy")
    np.save(shifted / "text_embeddings.npy", np.roll(embeddings, 1, axis=1))
    with pytest.raises(UserInputError, match="built with another retriever"):
        ReMoGPT.from_pretrained(tiny_model_dir).use_database(shifted)
    shipped = model_dir_or_shipped(None)
    for name, extra in (("other", ["--tokenizer", str(tiny_model_dir / "motion_tokenizer")]), ("plain", [])):
        retriever = shipped / "retriever" if name == "other" else tiny_model_dir / "retriever"
        code, _, err = run_cli("index", "build", "--retriever", retriever, "--data", root, "--out", tmp_path / name, "--split", "all", *extra)
        assert code == 0, err
    code, _, err = run_cli("generate", "a person walks", "-o", tmp_path / "x.npy", "--model", tiny_model_dir, "--database", tmp_path / "other")
    assert code == 2 and "built with another retriever" in err and not (tmp_path / "x.npy").exists()
    code, _, err = run_cli("caption", root / "motion_data/vector_263/humanml/000000.npy", "--model", tiny_model_dir,
                           "--database", tmp_path / "plain")  # fmt: skip
    assert code == 2 and "holds no motion tokens" in err
    code, _, err = run_cli("evaluate", "t2m", "--data", root, "--database", tmp_path / "plain", "--evaluator", tiny_model_dir / "evaluator")
    assert code == 2 and "--database needs a --model" in err
