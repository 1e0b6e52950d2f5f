"""`remogpt export bvh MOTION.npy -o out.bvh`: a motion as a BVH file for Blender and other animation tools.
`remogpt export model DIR -o OUT`: the inference part of a model directory, to share or ship."""

from pathlib import Path
from typing import Optional

import typer

from .app import export_app


@export_app.command("bvh")
def bvh(
    motion: Path = typer.Argument(..., help="Features (T, 263) or joints (T, 22|52, 3), .npy; KIT-ML's (T, 251) or (T, 21, 3) too."),
    output: Path = typer.Option(..., "-o", "--output", help="The .bvh file to write."),
    fps: Optional[float] = typer.Option(None, "--fps", help="Frames per second of the motion (default: 20, KIT-ML 12.5)."),
    units: str = typer.Option("m", "--units", help="Length unit of the file: m or cm."),
):
    """Write a motion as BVH on the HumanML3D/SMPL 22-joint tree (Y up, T-pose rest, ZYX Euler channels)."""
    from ..io import load_npy
    from ..render.bvh import write_bvh

    array = load_npy(motion, name="motion")
    if fps is None:  # the skeleton's own rate
        from ..motion.skeleton import HUMANML3D, KIT

        kit = array.shape[-1:] == (251,) or (array.ndim == 3 and array.shape[1] == KIT.num_joints)
        fps = KIT.fps if kit else HUMANML3D.fps
    report = write_bvh(array, output, fps=fps, units=units, name=f"motion file '{motion}'")
    typer.echo(
        f"wrote {output}: {report.frames} frames at {report.fps:g} fps in {report.units}; joint position error "
        f"mean {report.mean_error_m * 1000:.3f} mm, max {report.max_error_m * 1000:.3f} mm"
    )


@export_app.command("model")
def model(
    source: Path = typer.Argument(..., help="A ReMoGPT model directory (e.g. the output of `remogpt train all`)."),
    output: Path = typer.Option(..., "-o", "--output", help="The directory to write (replaced if it exists)."),
):
    """Copy what inference needs (language model, motion tokenizer, retriever, database, evaluator, report)."""
    from ..pipeline import export_model

    target = export_model(source, output)
    size = sum(f.stat().st_size for f in target.rglob("*") if f.is_file())
    typer.echo(f"wrote {target}: {size / 2**20:.1f} MiB")
