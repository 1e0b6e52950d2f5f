"""`remogpt export bvh MOTION.npy -o out.bvh`: a motion as a BVH file for Blender and other animation tools.
`remogpt export model DIR -o OUT`: the inference part of a model directory, to share or ship."""

from pathlib import Path

import typer

from .app import export_app


@export_app.command("bvh")
def bvh(
    motion: Path = typer.Argument(..., help="Features (T, 263) or joints (T, 22|52, 3) of a HumanML3D motion, .npy."),
    output: Path = typer.Option(..., "-o", "--output", help="The .bvh file to write."),
    fps: float = typer.Option(20.0, "--fps", help="Frames per second of the motion (HumanML3D: 20)."),
    units: str = typer.Option("m", "--units", help="Length unit of the file: m or cm."),
):
    """Write a motion as BVH on the HumanML3D/SMPL 22-joint tree (Y up, T-pose rest, ZYX Euler channels)."""
    from ..io import load_npy
    from ..render.bvh import write_bvh

    array = load_npy(motion, name="motion")
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
