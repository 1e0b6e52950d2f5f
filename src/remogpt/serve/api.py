"""The JSON API under /api (documented in docs/serve.md).

    GET  /api/info                       model, skeleton (bones and colours), limits
    GET  /api/health                     {"status": "ok", "pending": n}
    POST /api/generate                   {text, length_seconds?, seed?} -> a motion with its joints and context;
                                         'a | b | c', {steps: [{text, seconds?}]} or a length above one clip ->
                                         one long motion with its segments (timeline.py)
    POST /api/caption                    the bytes of a .npy file (features or joints) -> its caption and joints
    POST /api/continue                   {id, seconds?, seed?} -> that stored motion and what the model predicts next
    GET  /api/search?q=...&k=5           database hits: text->motion and text->text
    GET  /api/motions/{id}               a stored motion as JSON (joints)
    GET  /api/motions/{id}.npy|.mp4|.bvh  downloads (.npy: ?what=joints|features)

Errors are JSON {"error": "one sentence"} with a 4xx status for bad input, 503 when the queue is full and 504 when a
request runs past its timeout. Nothing in a request ever becomes a file-system path: motions are addressed by ids
this server made.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Optional

import numpy as np
from fastapi import APIRouter, Query, Request, Response
from pydantic import BaseModel, ConfigDict

from ..errors import UserInputError
from .jobs import JobQueue
from .limits import ServeLimits
from .service import DemoService, GenerateRequest, LongRequest, MotionResult, ReferenceView
from .store import MotionStore, StoredMotion

MOTION_NAME = re.compile(r"(?P<id>[0-9a-f]{16})(?:\.(?P<ext>json|npy|mp4|bvh))?")
MAX_SEED = 2**31 - 1
JOINT_DECIMALS = 4  # 0.1 mm: plenty for display, a third of the JSON of full float32 precision


class ApiError(Exception):
    """An error answered as {"error": message} with `status`."""

    def __init__(self, status: int, message: str, headers: dict | None = None):
        super().__init__(message)
        self.status, self.message, self.headers = status, message, headers


class StepBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    text: str
    seconds: Optional[float] = None


class GenerateBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    text: Optional[str] = None
    steps: Optional[list[StepBody]] = None  # instead of text: a long motion, step by step
    length_seconds: Optional[float] = None
    transition_seconds: Optional[float] = None  # between steps (timeline.py's default if unset)
    seed: Optional[int] = None


class ContinueBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: str
    seconds: Optional[float] = None  # of the continuation (the model decides if unset)
    seed: Optional[int] = None


@dataclass
class ServerState:
    service: DemoService
    store: MotionStore
    limits: ServeLimits
    model_jobs: JobQueue
    render_jobs: JobQueue
    info: dict


# ------------------------------------------------------------------------------------------------- validation
def clean_text(text: str, limits: ServeLimits, name: str) -> str:
    """Whitespace collapsed; non-empty, printable and at most `max_text_chars` long."""
    text = " ".join(str(text).split())
    if not text:
        raise ApiError(400, f"{name} is empty; describe a motion, e.g. 'a person walks forward'.")
    if len(text) > limits.max_text_chars:
        raise ApiError(400, f"{name} has {len(text)} characters; at most {limits.max_text_chars} are accepted.")
    if not text.isprintable():
        raise ApiError(400, f"{name} contains control characters.")
    return text


def length_in_frames(seconds: float | None, service) -> int | None:
    """length_seconds -> frames, in the range the model can write (ReMoGPT.frames_for owns it)."""
    if seconds is None:
        return None
    try:
        return service.model.frames_for(seconds, "length_seconds")
    except UserInputError as error:
        raise ApiError(400, str(error)) from None


def checked_prompt(text: str, service, limits: ServeLimits, name: str) -> str:
    """A prompt checked before queueing: one bad prompt must not fail the batch it would join."""
    try:
        return service.model.check_prompt(clean_text(text, limits, name))
    except UserInputError as error:
        raise ApiError(400, str(error)) from None


def long_request(body: "GenerateBody", service, limits: ServeLimits) -> LongRequest | None:
    """The long-motion request of a body (steps, 'a | b', or a length above one clip), checked; None for one clip."""
    import math

    from ..timeline import DEFAULT_TRANSITION_SECONDS, STEP_SEPARATOR, Step

    one_clip = service.model.seconds_range()[1]
    length = body.length_seconds
    if length is not None and not (math.isfinite(length) and length > 0):
        raise ApiError(400, f"length_seconds must be a positive number of seconds, not {length}.")
    if body.steps is None and STEP_SEPARATOR not in body.text and not (length is not None and length > one_clip):
        return None
    if body.steps is not None:
        if length is not None:
            raise ApiError(400, "length_seconds does not apply to steps; give each step its seconds.")
        steps = [Step(checked_prompt(step.text, service, limits, f"step {i + 1}"), step.seconds) for i, step in enumerate(body.steps)]
    else:
        texts = body.text.split(STEP_SEPARATOR)
        share = None if length is None else length / len(texts)
        steps = [Step(checked_prompt(text, service, limits, f"step {i + 1}"), share) for i, text in enumerate(texts)]
    if not 1 <= len(steps) <= limits.max_steps:
        raise ApiError(400, f"a long motion has 1 to {limits.max_steps} steps, not {len(steps)}.")
    seconds = [step.seconds for step in steps if step.seconds is not None]
    if any(not math.isfinite(s) or s <= 0 for s in seconds):
        raise ApiError(400, "every step's seconds must be a positive number.")
    longest = sum(seconds) + one_clip * (len(steps) - len(seconds))  # a step without seconds: at most one clip
    if longest > limits.max_motion_seconds:
        raise ApiError(400, f"the motion would last up to {longest:g} s; this server writes at most {limits.max_motion_seconds:g} s.")
    transition = DEFAULT_TRANSITION_SECONDS if body.transition_seconds is None else body.transition_seconds
    return LongRequest(tuple(steps), transition, body.seed)


def stored_motion(state: "ServerState", motion_id: str) -> StoredMotion:
    stored = state.store.get(motion_id) if re.fullmatch(r"[0-9a-f]{16}", motion_id) else None
    if stored is None:
        raise ApiError(404, f"motion {motion_id[:40]} is unknown or has expired; generate it again.")
    return stored


# ------------------------------------------------------------------------------------------------- JSON shapes
def joints_json(joints: np.ndarray) -> list:
    return np.round(np.asarray(joints, dtype=np.float64), JOINT_DECIMALS).tolist()


def motion_json(motion: StoredMotion, *, with_joints: bool = True) -> dict:
    payload = {"id": motion.id, "title": motion.title, "source": motion.source, "fps": motion.fps}
    if motion.decoded:
        frames = len(motion.joints)
        payload.update(num_frames=frames, seconds=round(frames / motion.fps, 3))
    if with_joints:
        payload["joints"] = joints_json(motion.joints)
    return payload


def reference_json(view: ReferenceView) -> dict:
    payload = {"kind": view.kind, "caption": view.caption, "id": view.motion.id if view.motion else None}
    if view.motion is not None and view.motion.tokens is not None:
        payload["num_tokens"] = len(view.motion.tokens)
    if view.name is not None:
        payload["name"] = view.name
    if view.similarity is not None:
        payload["similarity"] = round(view.similarity, 4)
    return payload


def result_json(result: MotionResult) -> dict:
    payload = motion_json(result.motion)
    payload["context"] = [reference_json(view) for view in result.references]
    payload["notices"] = list(result.notices)  # what the model cannot promise about this result (notices.py)
    if result.segments:
        payload["segments"] = [{"text": text, "start": round(a, 3), "end": round(b, 3)} for text, a, b in result.segments]
    return payload


def download_name(motion: StoredMotion, ext: str) -> str:
    slug = re.sub(r"[^a-z0-9]+", "-", motion.title.lower()).strip("-")[:40].strip("-") or "motion"
    return f"remogpt-{slug}-{motion.id[:6]}.{ext}"


# ------------------------------------------------------------------------------------------------- routes
def build_router(state: ServerState) -> APIRouter:
    router = APIRouter(prefix="/api")
    limits, service = state.limits, state.service
    timeout = limits.request_timeout_s

    @router.get("/info")
    def info() -> dict:
        return state.info

    @router.get("/health")
    def health() -> dict:
        return {"status": "ok", "pending": state.model_jobs.pending, "stored_motions": len(state.store)}

    @router.post("/generate")
    async def generate(body: GenerateBody) -> dict:
        if (body.text is None) == (body.steps is None):
            raise ApiError(400, "give either text or steps, not both or neither.")
        if body.seed is not None and not 0 <= body.seed <= MAX_SEED:
            raise ApiError(400, f"seed must be between 0 and {MAX_SEED}, not {body.seed}.")
        long = long_request(body, service, limits)
        if long is not None:  # alone in its job: it batches its own steps
            result = await state.model_jobs.run(service.generate_long_batch, long, timeout=timeout, batch_key=None)
            return {**result_json(result), "seed": body.seed}
        text = checked_prompt(body.text, service, limits, "text")
        frames = length_in_frames(body.length_seconds, service)
        request = GenerateRequest(text, frames, body.seed)
        # seeded requests run alone (reproducible); the others are batched with whatever else is waiting
        key = None if body.seed is not None else "generate"
        result = await state.model_jobs.run(service.generate_batch, request, timeout=timeout, batch_key=key)
        return {**result_json(result), "seed": body.seed}

    @router.post("/caption")
    async def caption(request: Request) -> dict:
        content_type = request.headers.get("content-type", "")
        if content_type.startswith("multipart/"):
            raise ApiError(415, "send the .npy file's bytes as the request body (Content-Type: "
                                "application/octet-stream), not as a multipart form.")
        data = await request.body()  # BodyLimitMiddleware has bounded it already
        result = await state.model_jobs.run(service.caption_batch, data, timeout=timeout, batch_key="caption")
        return {**result_json(result), "caption": result.caption}

    @router.post("/continue")
    async def continue_motion(body: ContinueBody) -> dict:
        stored = stored_motion(state, body.id)
        if body.seed is not None and not 0 <= body.seed <= MAX_SEED:
            raise ApiError(400, f"seed must be between 0 and {MAX_SEED}, not {body.seed}.")
        frames = None if body.seconds is None else length_in_frames(body.seconds, service)
        factor = service.model.motion_tokenizer.config.downsample_factor
        have = len(stored.joints) if stored.decoded else len(stored.tokens or ()) * factor
        if have + (frames or service.model.frame_range()[1]) > limits.max_motion_seconds * stored.fps:
            raise ApiError(400, f"the continued motion could last more than {limits.max_motion_seconds:g} s, this server's limit.")
        key = None if body.seed is not None else "continue"
        result = await state.model_jobs.run(service.continue_batch, (stored, frames, body.seed), timeout=timeout, batch_key=key)
        return {**result_json(result), "seed": body.seed}

    @router.get("/search")
    async def search(q: str = Query(..., description="the query text"), k: int = Query(5)) -> dict:
        query = clean_text(q, limits, "query q")
        if not 1 <= k <= limits.max_search_k:
            raise ApiError(400, f"k must be between 1 and {limits.max_search_k}, not {k}.")
        if not service.has_database():
            raise ApiError(409, "this model has no retrieval database to search (it was trained with --retrieval none).")
        found = await state.model_jobs.run(service.search_batch, (query, k), timeout=timeout, batch_key="search")
        return {
            "query": query,
            "k": k,
            "results": {kind: [reference_json(view) for view in views] for kind, views in found.items()},
        }

    @router.get("/motions/{name}")
    async def motion(name: str, what: str = Query("joints", description="joints | features (for .npy)")):
        match = MOTION_NAME.fullmatch(name)
        if match is None:
            raise ApiError(404, f"'{name[:40]}' is not a motion id of this server (16 hex digits, optional "
                                ".json/.npy/.mp4/.bvh).")
        stored = stored_motion(state, match["id"])
        if not stored.decoded:
            await state.model_jobs.run(service.decode_batch, stored, timeout=timeout, batch_key="decode")
        ext = match["ext"] or "json"
        if ext == "json":
            return motion_json(stored)
        if ext == "npy":
            return _npy_response(stored, what)
        if ext == "mp4":
            data = await state.render_jobs.run(_one(service.render_mp4), stored, timeout=limits.render_timeout_s)
            return _download(data, "video/mp4", download_name(stored, "mp4"))
        try:
            import remogpt.render.bvh  # noqa: F401
        except ImportError:
            raise ApiError(501, "BVH export is not available in this installation yet.") from None
        data = await state.render_jobs.run(_one(service.bvh_text), stored, timeout=limits.render_timeout_s)
        return _download(data, "application/octet-stream", download_name(stored, "bvh"))

    return router


def _one(function):
    """A single-item job function as a batch function."""
    return lambda items: [function(item) for item in items]


def _npy_response(stored: StoredMotion, what: str) -> Response:
    import io

    if what not in ("joints", "features"):
        raise ApiError(400, f"what must be 'joints' or 'features', not '{what[:40]}'.")
    array = stored.joints if what == "joints" else stored.features
    buffer = io.BytesIO()
    np.save(buffer, np.asarray(array, dtype=np.float32), allow_pickle=False)
    name = download_name(stored, "npy").replace(".npy", f"-{what}.npy")
    return _download(buffer.getvalue(), "application/octet-stream", name)


def _download(data: bytes, media_type: str, filename: str) -> Response:
    return Response(data, media_type=media_type, headers={"Content-Disposition": f'attachment; filename="{filename}"'})
