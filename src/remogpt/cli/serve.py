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
):
    """Serve the web demo: type a sentence, watch the motion in 3D, caption uploads, search the database."""
    if not 0 < port < 65536:
        raise UserInputError(f"--port must be between 1 and 65535, not {port}.")
    import uvicorn

    from ..serve.app import create_app

    typer.echo("loading the model ...")
    application = create_app(model)
    typer.echo(f"ReMoGPT demo on http://{host}:{port}/  (Ctrl+C stops it)")
    uvicorn.run(application, host=host, port=port, log_level="warning", limit_concurrency=MAX_CONNECTIONS,
                timeout_keep_alive=5, timeout_graceful_shutdown=5)
