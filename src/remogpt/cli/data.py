"""`remogpt data check` and `remogpt data stats`: inspect a HumanML3D-layout folder and write its statistics."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from .app import data_app


@data_app.command("check")
def check(
    directory: Path = typer.Argument(..., help="HumanML3D-layout folder (new_joint_vecs/, texts/, Mean.npy, ...)."),
) -> None:
    """List every problem of a dataset folder, one per line; exit 1 if there are any, 0 if it is clean."""
    import time

    from ..data.check import check_folder, layout_notes, summarize

    started = time.perf_counter()
    problems = check_folder(directory)
    for note in layout_notes(directory):
        typer.echo(f"note: {note}")
    for problem in problems:
        try:
            where = problem.path.relative_to(directory)
        except ValueError:
            where = problem.path
        typer.echo(f"{where}: {problem.message}")
    seconds = time.perf_counter() - started
    typer.echo(f"{directory}: {summarize(problems)} ({seconds:.1f} s).")
    if problems:
        raise typer.Exit(1)


@data_app.command("stats")
def stats(
    directory: Path = typer.Argument(..., help="HumanML3D-layout folder."),
    split: Optional[str] = typer.Option(
        None, "--split", help="Use only the ids of this split (train, val, ...); default: every feature file."
    ),
    out: Optional[Path] = typer.Option(None, "-o", "--out", help="Folder for Mean.npy/Std.npy (default: DIRECTORY)."),
) -> None:
    """Write Mean.npy/Std.npy of the features, with HumanML3D's per-group std averaging."""
    from ..data.folder import HumanML3DFolder, write_stats
    from ..errors import UserInputError
    from ..motion.stats import mean_std

    folder = HumanML3DFolder(directory)
    ids = folder.ids(split)
    present = [i for i in ids if folder.has_motion(i)]
    if not present:
        raise UserInputError(f"split '{split or 'all'}' of '{directory}' has no feature files to compute statistics from.")
    frames = 0

    def streamed():  # one clip in memory at a time: HumanML3D with mirrors is about 4 GB of features
        nonlocal frames
        for motion_id in present:
            features = folder.load_features(motion_id, cache=False)
            frames += len(features)
            yield features

    mean, std = mean_std(streamed(), folder.num_joints)
    target = out or directory
    write_stats(target, mean, std)
    skipped = len(ids) - len(present)
    note = f" ({skipped} listed ids without a feature file skipped)" if skipped else ""
    typer.echo(f"Wrote {target / 'Mean.npy'} and {target / 'Std.npy'} from {len(present)} motions, {frames} frames{note}.")


build_app = typer.Typer(help="Build a dataset folder from its original sources.", no_args_is_help=True)
data_app.add_typer(build_app, name="build")


@build_app.command("humanml3d")
def build_humanml3d(
    amass: Path = typer.Option(..., "--amass", help="AMASS root: one folder per sub-dataset (KIT, CMU, ...) of SMPL-H .npz files."),
    body_models: Path = typer.Option(..., "--body-models", help="Folder with smplh/{male,female}/model.npz (extended SMPL+H)."),
    index: Path = typer.Option(..., "--index", help="HumanML3D's index.csv."),
    texts: Path = typer.Option(..., "--texts", help="HumanML3D's texts/ folder (texts.zip unpacked)."),
    out: Path = typer.Option(..., "--out", help="Output folder (resumes: clips already built are kept)."),
    splits: Optional[Path] = typer.Option(None, "--splits", help="Folder with the official train/val/test.txt (default: beside index.csv or its HumanML3D/)."),
    humanact12: Optional[Path] = typer.Option(None, "--humanact12", help="The reference's humanact12 joint files (pose_data/humanact12.zip unpacked)."),
    workers: int = typer.Option(1, "--workers", help="Worker processes."),
) -> None:
    """HumanML3D from AMASS in one command: body model at 20 fps, trims and crops, mirrors, features, texts, splits, Mean/Std."""
    from ..data.humanml3d_build import BuildSettings, build_humanml3d as build

    settings = BuildSettings(
        amass=str(amass), body_models=str(body_models), index=str(index), texts=str(texts), out=str(out),
        splits=str(splits) if splits else None, humanact12=str(humanact12) if humanact12 else None, workers=workers,
    )  # fmt: skip
    summary = build(settings, say=typer.echo)
    typer.echo(
        f"{out}: {summary['clips_in_folder']} clips ({summary['clips_built_now']} built now, "
        f"{summary['clips_already_built']} kept), {summary['absent_sources']} index rows with an absent source, "
        f"{len(summary['failed'])} failed, {summary['texts_missing_count']} without texts; {summary['statistics']} "
        f"({summary['seconds']:.0f} s; details in {out / 'build.json'})."
    )
    for dataset, count in summary["absent_sub_datasets"].items():
        typer.echo(f"note: AMASS sub-dataset '{dataset}' ({count} rows) is not under {amass}", err=True)
