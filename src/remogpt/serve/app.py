"""The web demo's FastAPI application: the page (static files), the JSON API, and the hardening around them.

    app = create_app("runs/remogpt")          # or create_app() for the shipped model
    uvicorn.run(app, host="127.0.0.1", port=8000)

The model is loaded once, here, so a bad model directory fails before the server starts listening.
"""

from __future__ import annotations

import logging
import os
from contextlib import asynccontextmanager
from pathlib import Path

from ..errors import UserInputError
from .api import ApiError, ServerState, build_router
from .jobs import JobQueue, JobTimeout, QueueFull
from .limits import BodyLimitMiddleware, ServeLimits
from .service import DemoService
from .store import MotionStore

log = logging.getLogger(__name__)

STATIC_DIR = Path(__file__).parent / "static"
# The page loads only its own files: no CDN, no inline script, no framing by other sites.
SECURITY_HEADERS = {
    "content-security-policy": (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; "
        "connect-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'"
    ),
    "x-content-type-options": "nosniff",
    "x-frame-options": "DENY",
    "referrer-policy": "no-referrer",
}


def create_app(model_dir: str | os.PathLike | None = None, *, model=None, limits: ServeLimits | None = None):
    """The app serving `model_dir` (default: the shipped model), or an already loaded ReMoGPT `model`."""
    from fastapi import FastAPI
    from fastapi.exceptions import RequestValidationError
    from fastapi.responses import FileResponse, JSONResponse
    from fastapi.staticfiles import StaticFiles
    from starlette.exceptions import HTTPException as StarletteHTTPException

    limits = limits or ServeLimits()
    name = "model"
    if model is None:
        from ..pipeline import ReMoGPT

        name = Path(model_dir).name if model_dir is not None else "built-in model"
        model = ReMoGPT.from_pretrained(model_dir)
    elif model_dir is not None:
        name = Path(model_dir).name

    store = MotionStore(limits.stored_motions)
    service = DemoService(model, limits, store)
    state = ServerState(
        service=service,
        store=store,
        limits=limits,
        model_jobs=JobQueue("model", limits.max_pending, limits.max_batch),
        render_jobs=JobQueue("render", limits.max_pending_renders),
        info=server_info(service, limits, name),
    )

    @asynccontextmanager
    async def lifespan(_app):
        yield
        state.model_jobs.shutdown()
        state.render_jobs.shutdown()

    app = FastAPI(title="ReMoGPT demo", version="1", lifespan=lifespan, docs_url=None, redoc_url=None,
                  openapi_url="/api/openapi.json")
    app.state.remogpt = state

    def error(status: int, message: str, headers: dict | None = None) -> JSONResponse:
        return JSONResponse({"error": message}, status_code=status, headers=headers)

    @app.exception_handler(ApiError)
    async def api_error(_request, exc: ApiError):
        return error(exc.status, exc.message, exc.headers)

    @app.exception_handler(UserInputError)
    async def user_input_error(_request, exc: UserInputError):
        return error(400, str(exc))

    @app.exception_handler(QueueFull)
    async def queue_full(_request, exc: QueueFull):
        return error(503, f"the server is busy ({exc}); try again in a few seconds.", {"Retry-After": "5"})

    @app.exception_handler(JobTimeout)
    async def job_timeout(_request, exc: JobTimeout):
        return error(504, f"the request timed out ({exc}).")

    @app.exception_handler(RequestValidationError)
    async def validation_error(_request, exc: RequestValidationError):
        return error(422, validation_message(exc.errors()))

    @app.exception_handler(Exception)
    async def internal_error(_request, exc: Exception):  # a bug: logged with its traceback, not shown to clients
        log.error("request failed", exc_info=exc)
        return error(500, f"the server failed on this request ({type(exc).__name__}); its log has the details.")

    @app.exception_handler(StarletteHTTPException)
    async def http_error(_request, exc: StarletteHTTPException):
        return error(exc.status_code, str(exc.detail), getattr(exc, "headers", None))

    @app.middleware("http")
    async def security_headers(request, call_next):
        response = await call_next(request)
        for key, value in SECURITY_HEADERS.items():
            response.headers.setdefault(key, value)
        return response

    app.include_router(build_router(state))

    @app.get("/", include_in_schema=False)
    def index():
        return FileResponse(STATIC_DIR / "index.html", headers={"cache-control": "no-cache"})

    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")

    def body_limit(path: str) -> int:
        return limits.max_upload_bytes if path == "/api/caption" else limits.max_json_bytes

    app.add_middleware(BodyLimitMiddleware, limit_for=body_limit)
    return app


def validation_message(errors) -> str:
    """One sentence from pydantic's errors: the first field and what was wrong with it."""
    if not errors:
        return "the request is invalid."
    first = errors[0]
    location = [str(part) for part in first.get("loc", ())]
    if location and location[0] in ("body", "query", "path", "header"):  # where it was, not which field
        location = location[1:]
    field = ".".join(location)
    message = first.get("msg", "is invalid")
    if first.get("type") == "json_invalid":
        return f"the request body is not valid JSON ({first.get('ctx', {}).get('error', message)})."
    if first.get("type") == "extra_forbidden":
        return f"field '{field}' is not accepted; the fields are text, length_seconds and seed."
    if first.get("type") == "missing":
        return f"field '{field}' is required."
    return f"field '{field}': {message}." if field else f"{message}."


def server_info(service: DemoService, limits: ServeLimits, name: str) -> dict:
    """What the page needs to know once: the model, how to draw its skeleton, and the limits of the inputs."""
    from ..motion.skeleton import skeleton_for
    from ..render.style import skeleton_bones

    skeleton = skeleton_for(22 if service.feature_dim == 263 else 21)
    bones, head = skeleton_bones(skeleton)
    return {
        "model": name,
        "fps": service.fps,
        "feature_dim": service.feature_dim,
        "retrieval": service.retrieval,
        "database_size": service.database_size,
        "skeleton": {
            "name": skeleton.name,
            "num_joints": skeleton.num_joints,
            "head": head,
            "bones": [
                {"parent": b.parent, "child": b.child, "side": b.side, "colour": "#%02x%02x%02x" % b.colour}
                for b in bones
            ],
        },
        "limits": {**limits.public(), **dict(zip(("min_length_seconds", "max_length_seconds"), service.model.seconds_range()))},
    }
