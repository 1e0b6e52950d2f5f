"""`remogpt serve`: the web demo (page + JSON API) on a local port."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from ..errors import UserInputError
from .app import app

MAX_CONNECTIONS = 256  # open connections uvicorn accepts before answering 503 at once


@app.command("serve")
def serve_command(
    model: Optional[Path] = typer.Option(None, "--model", help="Model directory (default: the shipped model)."),
    host: str = typer.Option("127.0.0.1", "--host", help="Address to listen on (0.0.0.0 exposes it to the network)."),
    port: int = typer.Option(8000, "--port", help="Port to listen on."),
    max_batch: int = typer.Option(8, "--max-batch", help="Generations waiting together run as one batch of at most this many (1: one at a time)."),
    max_pending: int = typer.Option(64, "--max-pending", help="Model requests queued or running; more get 503 (bounds memory)."),
    timeout: float = typer.Option(120.0, "--timeout", help="Seconds a request may wait and run before it gets 504."),
):
    """Serve the web demo: type a sentence, watch the motion in 3D, caption uploads, search the database."""
    if not 0 < port < 65536:
        raise UserInputError(f"--port must be between 1 and 65535, not {port}.")
    for name, value in (("--max-batch", max_batch), ("--max-pending", max_pending), ("--timeout", timeout)):
        if not value > 0:
            raise UserInputError(f"{name} must be positive, not {value}.")
    import uvicorn

    from ..serve.app import create_app
    from ..serve.connections import header_timeout_protocol
    from ..serve.limits import ServeLimits

    limits = ServeLimits(max_batch=max_batch, max_pending=max_pending, request_timeout_s=timeout)
    typer.echo("loading the model ...")
    application = create_app(model, limits=limits)
    typer.echo(f"ReMoGPT demo on http://{host}:{port}/  (Ctrl+C stops it)")
    uvicorn.run(application, host=host, port=port, log_level="warning", limit_concurrency=MAX_CONNECTIONS,
                timeout_keep_alive=5, timeout_graceful_shutdown=5, http=header_timeout_protocol())
