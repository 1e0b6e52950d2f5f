"""`remogpt render MOTION.npy -o out.gif|out.mp4|out.png`: animate a motion or draw its storyboard."""

from pathlib import Path
from typing import Optional

import typer

from .app import app


@app.command("render")
def render(
    motion: Path = typer.Argument(..., help="Features (T, 263) / KIT (T, 251) or joints (T, 22|21|52, 3), .npy."),
    output: Path = typer.Option(
        ..., "-o", "--output", help=".gif or .mp4 for an animation, .png for a storyboard sheet."
    ),
    title: Optional[str] = typer.Option(None, "--title", help="Text drawn on top (e.g. the caption); wrapped."),
    fps: Optional[float] = typer.Option(
        None, "--fps", help="Frames per second of the motion (default: 20 for HumanML3D, 12.5 for KIT)."
    ),
    frames: int = typer.Option(8, "--frames", help="Number of evenly spaced frames on a .png storyboard."),
):
    """Render a motion as a 3D stick figure: left limbs blue, right limbs red, ground and root trajectory."""
    import time

    from ..io import load_npy
    from ..render import render_motion

    start = time.perf_counter()
    array = load_npy(motion, name="motion")
    def progress(done: int, total: int) -> None:  # long renders say how far they are (on stderr)
        typer.echo(f"  {done}/{total} frames", err=True)

    render_motion(array, output, title=title, fps=fps, frames=frames, name=f"motion file '{motion}'", progress=progress)
    typer.echo(f"wrote {output} in {time.perf_counter() - start:.1f} s")
