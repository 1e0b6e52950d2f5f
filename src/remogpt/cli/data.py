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

    from ..data.check import check_folder, summarize

    started = time.perf_counter()
    problems = check_folder(directory)
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
    features = folder.load_many(present)
    mean, std = mean_std(list(features.values()), folder.num_joints)
    target = out or directory
    write_stats(target, mean, std)
    skipped = len(ids) - len(present)
    note = f" ({skipped} listed ids without a feature file skipped)" if skipped else ""
    frames = sum(len(f) for f in features.values())
    typer.echo(f"Wrote {target / 'Mean.npy'} and {target / 'Std.npy'} from {len(present)} motions, {frames} frames{note}.")
