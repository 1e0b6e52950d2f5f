"""`remogpt data synth OUT_DIR`: write the built-in procedural dataset (HumanML3D layout)."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from .app import data_app


@data_app.command("synth")
def synth(
    out_dir: Path = typer.Argument(..., help="New (or empty) folder to write the dataset to."),
    motions: int = typer.Option(2000, "--motions", help="Number of motions (each also gets a mirrored twin)."),
    seed: int = typer.Option(0, "--seed", help="Random seed; the same seed and count give the same dataset."),
    workers: Optional[int] = typer.Option(None, "--workers", help="Worker processes (default: up to 2)."),
    timed_captions: float = typer.Option(
        0.0, "--timed-captions",
        help="Share of several-segment motions that get a timed caption (start#end seconds) describing one segment.",
    ),
    skeleton: str = typer.Option(
        "humanml3d", "--skeleton", help="humanml3d (22 joints, 263-d, 20 fps) or kit (KIT-ML: 21 joints, 251-d, 12.5 fps)."
    ),
) -> None:
    """Synthesise body-part-compositional motions with captions: features, joints, texts, Mean/Std, splits,
    mirrors, compositions.jsonl and a rare-composition test split."""
    from ..data.synth import synthesize
    from ..errors import UserInputError

    if workers is not None and workers < 1:
        raise UserInputError(f"--workers is {workers}, expected at least 1.")
    summary = synthesize(out_dir, n_motions=motions, seed=seed, workers=workers, timed_share=timed_captions, skeleton=skeleton)
    splits = summary["splits"]
    typer.echo(
        f"wrote {summary['clips_with_mirrors']} clips ({summary['motions']} motions + mirrors) to {out_dir} "
        f"in {summary['seconds']:.1f} s: train {splits['train']}, val {splits['val']}, test {splits['test']}, "
        f"rare_test {splits['rare_test']}; {summary['distinct_compositions']} compositions, vocabulary "
        f"{summary['vocabulary']} words, foot skating {summary['foot_skating_m_per_s']:.3f} m/s"
        + (f", {summary['timed_captions']['motions']} clips with a timed caption." if timed_captions else ".")
    )
