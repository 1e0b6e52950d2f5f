"""`remogpt motion to-joints|to-features`: convert between HumanML3D features and joint positions."""

from pathlib import Path

import typer

from .app import motion_app

OUTPUT = typer.Option(..., "-o", "--output", help="Where to write the result (.npy).")


def _require_npy_output(path: Path) -> None:
    from ..errors import UserInputError

    if path.suffix.lower() != ".npy":
        raise UserInputError(f"output '{path}' must end in .npy.")


@motion_app.command("to-joints")
def to_joints(features: Path = typer.Argument(..., help="Features (T, 263) or KIT (T, 251), .npy."), output: Path = OUTPUT):
    """Decode features to joint positions (T, J, 3) with HumanML3D's recover_from_ric."""
    from ..io import load_npy, save_npy
    from ..motion.features import features_to_joints

    _require_npy_output(output)
    joints = features_to_joints(load_npy(features, name="features"), where=f"features file '{features}'")
    save_npy(output, joints)
    typer.echo(f"wrote {output} {tuple(joints.shape)}")


@motion_app.command("to-features")
def to_features(
    joints: Path = typer.Argument(..., help="Joint positions (T, 22, 3), raw SMPL-H (T, 52, 3) or KIT (T, 21, 3), .npy."),
    output: Path = OUTPUT,
    retarget: bool = typer.Option(True, help="Retarget to HumanML3D's target skeleton first (as the dataset does)."),
    released_yaw: bool = typer.Option(
        False, help="Keep the released pipeline's root-yaw sign flip on 180-degree turns (bit-compatible, drifts)."
    ),
):
    """Encode joint positions to features (T-1, 263) exactly as HumanML3D's process_file."""
    from ..io import load_npy, save_npy
    from ..motion.features import as_joints, joints_to_features

    _require_npy_output(output)
    array = as_joints(load_npy(joints, name="joints"), where=f"joints file '{joints}'")
    features = joints_to_features(array, retarget_skeleton=retarget, fix_yaw_flip=not released_yaw)
    save_npy(output, features)
    typer.echo(f"wrote {output} {tuple(features.shape)}")
