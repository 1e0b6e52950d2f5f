"""The options every `remogpt train ...` command shares: where it trains (Lightning's accelerator, devices, nodes),
its precision and its seed. One definition, so `train tokenizer|retriever|evaluator|lm|all` read alike."""

from __future__ import annotations

from typing import Optional

import typer

from ..errors import UserInputError

ACCELERATOR = typer.Option("auto", "--accelerator", help="Lightning accelerator: auto, cpu or gpu.")
DEVICES = typer.Option("auto", "--devices", help="auto, or the number of devices per node (several: DDP).")
NUM_NODES = typer.Option(1, "--num-nodes", min=1, help="Machines taking part (DDP across nodes; see docs/training.md).")
PRECISION = typer.Option(None, "--precision", help="Lightning precision: 32, bf16-mixed, 16-mixed, or auto (bf16-mixed where the hardware has bf16 arithmetic, else 32; default: the preset's).")
SEED = typer.Option(None, "--seed", min=0, help="Random seed (default: the preset's).")


def devices_value(value: str) -> int | str:
    if value == "auto":
        return value
    if not value.isdigit() or int(value) < 1:
        raise UserInputError(f"--devices '{value}' is not 'auto' or a positive number.")
    return int(value)


def hardware_overrides(accelerator: str, devices: str, num_nodes: int, precision: Optional[str]) -> dict:
    """The stage config overrides of the shared options (None leaves the preset's value)."""
    return dict(accelerator=accelerator, devices=devices_value(devices), num_nodes=num_nodes, precision=precision)


def say_once(message: str) -> None:
    """Print in the main process only: under DDP every training process runs the command to its end."""
    from ..training import is_main_process

    if is_main_process():
        typer.echo(message)
