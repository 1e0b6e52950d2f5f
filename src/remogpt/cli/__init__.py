"""Entry point of the `remogpt` command.

The command modules are thin: they parse arguments and call the library, importing heavy libraries inside the
command functions so `remogpt --help` stays instant. A `UserInputError` raised anywhere becomes one sentence on
stderr and exit code 2.
"""

from __future__ import annotations

import os
import sys

import click

from ..errors import UserInputError
from .app import app

# Each module registers its commands on the groups of .app when imported.
from . import motion as _motion  # noqa: F401,E402
from . import data as _data  # noqa: F401,E402
from . import render as _render  # noqa: F401,E402
from . import synth as _synth  # noqa: F401,E402
from . import tokenizer as _tokenizer  # noqa: F401,E402
from . import retrieval as _retrieval  # noqa: F401,E402
from . import evaluation as _evaluation  # noqa: F401,E402
from . import language as _language  # noqa: F401,E402
from . import export as _export  # noqa: F401,E402
from . import serve as _serve  # noqa: F401,E402


def _exception_classes(name: str) -> tuple[type, ...]:
    """click's exception `name`, and the same from the private copy of click that typer >= 0.29 bundles (other
    classes, so catching click's alone catches nothing typer raises)."""
    import importlib

    found = []
    for module in ("click.exceptions", "typer._click.exceptions", "typer.exceptions"):
        try:
            cls = getattr(importlib.import_module(module), name, None)
        except ImportError:
            continue
        if isinstance(cls, type) and cls not in found:
            found.append(cls)
    return tuple(found)


USAGE_ERRORS = _exception_classes("ClickException")
EXITS = _exception_classes("Exit")
ABORTS = _exception_classes("Abort")


def _exit_cleanly_on_sigterm() -> None:
    """`kill PID` (SIGTERM) unwinds like Ctrl-C, so half-written temporary files are removed (io.atomic_path)."""
    import signal
    import threading

    if threading.current_thread() is threading.main_thread():  # signal handlers can only be set there
        signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
        signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGTERM})  # a parent that blocked it would make kill wait


def main(argv: list[str] | None = None) -> None:
    """Run the command line; exit 0 on success, 2 on bad input."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    _exit_cleanly_on_sigterm()
    try:
        result = app(args=argv, prog_name="remogpt", standalone_mode=False)
    except UserInputError as error:
        click.echo(f"Error: {error}", err=True)
        sys.exit(2)
    except EXITS as done:
        sys.exit(done.exit_code)
    except USAGE_ERRORS as error:  # usage mistakes: click's one-line message and exit code 2
        error.show()
        sys.exit(error.exit_code)
    except ABORTS:
        click.echo("Aborted.", err=True)
        sys.exit(1)
    except OSError as error:  # a full disk, a read-only folder, -o naming a folder: one sentence, no traceback
        where = f" ('{error.filename}')" if error.filename else ""
        click.echo(f"Error: cannot read or write a file{where}: {error.strerror or error}.", err=True)
        sys.exit(2)
    sys.exit(result if isinstance(result, int) else 0)
