"""The root `remogpt` command and its groups; each part of the package adds its commands in its own module."""

import typer

app = typer.Typer(
    name="remogpt",
    help="ReMoGPT: text-to-motion and motion-to-text with part-level retrieval augmentation.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
motion_app = typer.Typer(help="Convert between joint positions and HumanML3D features.", no_args_is_help=True)
data_app = typer.Typer(help="Check, summarise and synthesise HumanML3D-layout datasets.", no_args_is_help=True)
train_app = typer.Typer(help="Train a stage of the system.", no_args_is_help=True)
evaluate_app = typer.Typer(help="Evaluate a stage with the field's protocols.", no_args_is_help=True)
index_app = typer.Typer(help="Build retrieval databases.", no_args_is_help=True)
export_app = typer.Typer(help="Export motions to other formats.", no_args_is_help=True)



def _version(value: bool) -> None:
    if value:
        from .. import __version__

        typer.echo(f"remogpt {__version__}")
        raise typer.Exit()


@app.callback()
def root(
    version: bool = typer.Option(False, "--version", callback=_version, is_eager=True, help="Print the version and exit."),
) -> None:
    """ReMoGPT: text-to-motion and motion-to-text with part-level retrieval augmentation."""


app.add_typer(motion_app, name="motion")
app.add_typer(data_app, name="data")
app.add_typer(train_app, name="train")
app.add_typer(evaluate_app, name="evaluate")
app.add_typer(index_app, name="index")
app.add_typer(export_app, name="export")
