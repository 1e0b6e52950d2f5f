"""`remogpt data build humanml3d` on fabricated AMASS files and a fabricated SMPL-H model of the real layouts (keys and
shapes): the body model's joints, the reference's frame step, trims, crops, negation and mirrors, absent sources
listed, resuming, and a folder that passes `data check` and trains with `train all --preset tiny`."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from scipy.spatial.transform import Rotation

from remogpt.data.amass import Z_UP_TO_Y_UP, amass_joints, body_model_files, frame_step, gender_of, load_body_model, read_amass
from remogpt.data.check import check_folder
from remogpt.data.humanml3d_build import BuildSettings, IndexRow, build_humanml3d, crop
from remogpt.errors import UserInputError
from remogpt.motion.skeleton import HUMANML3D

# SMPL-H's 52 joints: SMPL's 22 body joints, then 15 per hand on the wrists (smplx's kinematic tree)
PARENTS = [-1, 0, 0, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 9, 9, 12, 13, 14, 16, 17, 18, 19,
           20, 22, 23, 20, 25, 26, 20, 28, 29, 20, 31, 32, 20, 34, 35,
           21, 37, 38, 21, 40, 41, 21, 43, 44, 21, 46, 47, 21, 49, 50]  # fmt: skip


def rest_joints() -> np.ndarray:
    """A body at rest in the model's own y-up frame: HumanML3D's target skeleton, fingers a few cm past the wrists."""
    joints = np.zeros((52, 3))
    offsets = HUMANML3D.target_offsets
    for joint in range(1, 52):
        offset = offsets[joint] if joint < 22 else np.array([0.0, -0.02 * (1 + (joint - 22) % 3), 0.0])
        joints[joint] = joints[PARENTS[joint]] + offset
    return joints + np.array([0.0, 0.95, 0.0])


def write_body_model(path: Path, rng: np.random.Generator) -> None:
    """An SMPL-H model.npz with the arrays (names, shapes, dtypes) of AMASS's extended SMPL+H files, two vertices per
    joint (skinned to it, regressed back to it)."""
    joints = rest_joints()
    vertices = np.repeat(joints, 2, axis=0) + rng.normal(0, 0.005, (104, 3))
    regressor = np.zeros((52, 104))
    weights = np.zeros((104, 52))
    for joint in range(52):
        regressor[joint, 2 * joint : 2 * joint + 2] = 0.5
        weights[2 * joint : 2 * joint + 2, joint] = 1.0
    kintree = np.array([[4294967295] + PARENTS[1:], list(range(52))], dtype=np.int64)
    path.parent.mkdir(parents=True, exist_ok=True)
    np.savez(
        path, v_template=vertices, shapedirs=rng.normal(0, 0.002, (104, 3, 16)), posedirs=np.zeros((104, 3, 51 * 9)),
        J_regressor=regressor, kintree_table=kintree, weights=weights, f=np.array([[0, 1, 2], [2, 3, 4]], np.uint32),
        hands_componentsl=np.eye(45), hands_componentsr=np.eye(45), hands_meanl=np.zeros(45), hands_meanr=np.zeros(45),
        bs_style="lbs", bs_type="lrotmin", J=joints,
    )  # fmt: skip


def write_amass(path: Path, frames: int, fps: float, rng: np.random.Generator, gender: str = "male") -> dict:
    """A walk forward along AMASS's +y (z up), legs swinging, the body stood up from the model's y-up frame."""
    t = np.arange(frames) / fps
    poses = np.zeros((frames, 156))
    poses[:, :3] = Rotation.from_euler("x", 90, degrees=True).as_rotvec()  # y-up model -> z-up world, facing +y
    swing = 0.5 * np.sin(2 * np.pi * 1.0 * t)
    poses[:, 3 + 3 * 0] = swing  # left hip (body joint 1) about x
    poses[:, 3 + 3 * 1] = -swing  # right hip
    poses[:, 3 + 3 * 3] = np.clip(-swing, 0, None)  # knees bend on the back swing
    poses[:, 3 + 3 * 4] = np.clip(swing, 0, None)
    poses[:, 3:66] += rng.normal(0, 0.01, (frames, 63))
    trans = np.stack([np.zeros(frames), 1.2 * t, 0.02 * np.sin(4 * np.pi * t)], axis=1)
    values = dict(poses=poses, trans=trans, betas=rng.normal(0, 0.5, 16), gender=np.array(gender),
                  mocap_framerate=np.array(fps), dmpls=np.zeros((frames, 8)))  # fmt: skip
    path.parent.mkdir(parents=True, exist_ok=True)
    np.savez(path, **values)
    return values


@pytest.fixture(scope="module")
def body_models(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("body_models")
    for gender, seed in (("male", 1), ("female", 2)):
        write_body_model(root / "smplh" / gender / "model.npz", np.random.default_rng(seed))
    return root


def test_the_body_model_gives_the_rest_skeleton_moved_rotated_and_turned_y_up(body_models, tmp_path):
    model = load_body_model(body_model_files(body_models)["male"])
    with np.load(body_models / "smplh" / "male" / "model.npz") as arrays:
        rest = arrays["J_regressor"] @ arrays["v_template"]  # the skeleton the model regresses from its template
    frames, angle = 4, np.deg2rad(30)
    values = dict(poses=np.zeros((frames, 156)), trans=np.tile([0.5, -1.0, 2.0], (frames, 1)), betas=np.zeros(16),
                  gender=np.array("male"), mocap_framerate=np.array(20.0))  # fmt: skip
    values["poses"][:, 2] = angle  # the root turned about the model's z axis
    joints = amass_joints(values, model)
    rotation = Rotation.from_rotvec([0, 0, angle]).as_matrix()
    expected = ((rest - rest[0]) @ rotation.T + rest[0] + values["trans"][0]) @ Z_UP_TO_Y_UP
    np.testing.assert_allclose(joints[0], expected, atol=1e-5)
    assert joints.shape == (frames, 52, 3)


def test_reference_rules_frame_step_gender_and_row_processing():
    assert [frame_step(f) for f in (120, 100, 60, 59.94, 250, 20)] == [6, 5, 3, 2, 12, 1]
    assert gender_of(np.array("male")) == "male"
    assert [gender_of(np.array(g)) for g in ("female", "neutral", b"male")] == ["female"] * 3  # as the reference
    joints = np.arange(200 * 2 * 3, dtype=float).reshape(200, 2, 3)
    hdm = crop(joints, IndexRow("./pose_data/MPI_HDM05/bk/a_poses.npy", 10, 30, "000001"))
    np.testing.assert_array_equal(hdm[:, :, 1:], joints[60 + 10 : 60 + 30, :, 1:])  # 3 s trimmed at 20 fps, then cropped
    np.testing.assert_array_equal(hdm[:, :, 0], -joints[70:90, :, 0])  # x negated
    act = crop(joints, IndexRow("./pose_data/humanact12/humanact12/P1.npy", 0, -1, "000002"))
    np.testing.assert_array_equal(act, joints)  # HumanAct12: whole, not negated


def _fabricate(root: Path, body_models: Path) -> BuildSettings:
    rng = np.random.default_rng(0)
    amass, texts = root / "amass", root / "texts"
    rows, names = [], []
    for i in range(10):
        dataset = "MPI_HDM05" if i == 0 else "KIT"
        source = f"{dataset}/{i}/walk_{i:02d}_poses"
        folder = "HDM05" if i == 0 else "KIT"  # AMASS's current name of the index's MPI_HDM05
        write_amass(amass / folder / f"{i}/walk_{i:02d}_poses.npz", 420, 60.0, rng, gender="male" if i % 2 else "female")
        name = f"{i:06d}"
        rows.append(f"./pose_data/{source}.npy,0,{80 if i == 0 else 100 + 4 * i},{name}.npy")
        names.append(name)
    rows.append("./pose_data/CMU/01/01_01_poses.npy,0,100,000010.npy")  # a sub-dataset not downloaded
    rows.append("./pose_data/humanact12/humanact12/P11G01R02F1812T1847A0402.npy,0,-1,000011.npy")  # not given
    rows.append("./pose_data/KIT/3/shape.npy,0,100,000012.npy")  # a file without a frame rate: the reference skips it
    (amass / "KIT" / "3").mkdir(parents=True, exist_ok=True)
    np.savez(amass / "KIT" / "3" / "shape.npz", betas=np.zeros(16), gender=np.array("male"))
    index = root / "index.csv"
    index.write_text("source_path,start_frame,end_frame,new_name\n" + "\n".join(rows) + "\n")
    texts.mkdir()
    for name in names + ["000010"]:
        for clip in (name, "M" + name):
            (texts / f"{clip}.txt").write_text("a person walks forward.#a/DET person/NOUN walk/VERB forward/ADV#0.0#0.0\n")
    splits = {"train": names[:6], "val": names[6:8] + ["000010"], "test": names[8:] + ["000011"]}
    for split, ids in {**splits, "all": names + ["000010", "000011"]}.items():
        (root / f"{split}.txt").write_text("\n".join(i for n in ids for i in (n, "M" + n)) + "\n")
    return BuildSettings(amass=str(amass), body_models=str(body_models), index=str(index), texts=str(texts), out=str(root / "HumanML3D"))


def test_build_writes_a_folder_that_passes_the_check_lists_absent_sources_and_resumes(body_models, tmp_path, run_cli):
    settings = _fabricate(tmp_path, body_models)
    code, stdout, err = run_cli(
        "data", "build", "humanml3d", "--amass", settings.amass, "--body-models", settings.body_models, "--index",
        settings.index, "--texts", settings.texts, "--out", settings.out, "--workers", "2",
    )  # fmt: skip
    assert code == 0, err
    out = Path(settings.out)
    summary = json.loads((out / "build.json").read_text())
    assert summary["clips_built_now"] == 10 and summary["clips_in_folder"] == 20 and summary["absent_sources"] == 2
    assert summary["absent_sub_datasets"] == {"CMU": 1} and "'CMU'" in err
    assert summary["failed"] == {"000012": "source has no mocap_framerate"}
    assert check_folder(out) == []
    assert (out / "train.txt").read_text().split() == [i for n in range(6) for i in (f"{n:06d}", f"M{n:06d}")]
    assert "000010" not in (out / "val.txt").read_text()  # listed ids whose source is absent are left out
    # the HDM05 clip: 420 frames at 60 fps -> 140 at 20 fps, 60 trimmed, crop [0, 80) -> 80 joints -> 79 feature frames
    assert np.load(out / "new_joint_vecs" / "000000.npy").shape == (79, 263)
    assert np.load(out / "new_joint_vecs" / "000003.npy").shape == (111, 263)
    # the clip is the body model's joints, cropped and x-negated, through the project's features
    from remogpt.motion.features import joints_to_features

    values = read_amass(Path(settings.amass) / "KIT" / "3" / "walk_03_poses.npz")
    joints = amass_joints(values, load_body_model(Path(settings.body_models) / "smplh" / "male" / "model.npz"))[:112, :22]
    joints[..., 0] *= -1
    np.testing.assert_allclose(np.load(out / "new_joint_vecs" / "000003.npy"), joints_to_features(joints), atol=1e-4)

    code, stdout, _ = run_cli(
        "data", "build", "humanml3d", "--amass", settings.amass, "--body-models", settings.body_models, "--index",
        settings.index, "--texts", settings.texts, "--out", settings.out,
    )  # fmt: skip
    assert code == 0 and json.loads((out / "build.json").read_text())["clips_already_built"] == 10


def test_missing_inputs_are_one_sentence(body_models, tmp_path, run_cli):
    settings = _fabricate(tmp_path, body_models)
    base = ["data", "build", "humanml3d", "--amass", settings.amass, "--index", settings.index, "--texts", settings.texts,
            "--out", str(tmp_path / "o")]  # fmt: skip
    code, _, err = run_cli(*base, "--body-models", str(tmp_path / "nowhere"))
    assert code == 2 and "no male SMPL-H body model" in err and "Traceback" not in err
    code, _, err = run_cli(*base[:3], "--amass", str(tmp_path / "texts"), *base[5:], "--body-models", settings.body_models)
    assert code == 2 and "none of the 13 sources" in err
    with pytest.raises(UserInputError, match="lacks the array"):
        bad = tmp_path / "bad" / "smplh" / "male" / "model.npz"
        bad.parent.mkdir(parents=True)
        np.savez(bad, v_template=np.zeros((3, 3)))
        load_body_model(bad)


def test_the_built_folder_trains_with_train_all_tiny(body_models, tmp_path):
    from remogpt.train_all import TrainAllSettings, train_all

    settings = _fabricate(tmp_path, body_models)
    build_humanml3d(settings, say=lambda _: None)
    out = train_all(TrainAllSettings(
        data=settings.out, out=str(tmp_path / "model"), preset="tiny", tokenizer_steps=4, retriever_steps=4,
        evaluator_steps=4, lm_pretrain_steps=2, lm_steps=2, replications=1,
    ), say=lambda _: None)  # fmt: skip
    assert (out / "report.md").is_file() and (out / "model.safetensors").is_file()
