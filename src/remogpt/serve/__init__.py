"""The web demo (`remogpt serve`): a page where a user types a sentence and watches the generated motion in 3D,
with a JSON API under it. `create_app(model_dir)` in app.py builds the FastAPI application."""


def create_app(*args, **kwargs):
    """See remogpt.serve.app.create_app (imported lazily: FastAPI is only needed by the server)."""
    from .app import create_app as build

    return build(*args, **kwargs)


__all__ = ["create_app"]
