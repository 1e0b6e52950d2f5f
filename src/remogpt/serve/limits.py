"""The server's limits and the ASGI middleware that enforces the request-body limits before a body is read.

Every number a request can push on (text length, upload size, queue depth, time) has a bound here (the motion length\nis the model's: ReMoGPT.seconds_range),
so a client can neither exhaust memory nor hold the model forever. `create_app(limits=ServeLimits(...))` overrides
them; the page reads them from GET /api/info.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

from ..errors import UserInputError


@dataclass(frozen=True)
class ServeLimits:
    max_text_chars: int = 300  # a prompt or a search query
    max_json_bytes: int = 16 * 1024  # any JSON request body
    max_upload_bytes: int = 4 * 1024 * 1024  # a .npy upload (a 10 s HumanML3D clip is ~0.2 MB of features)
    max_upload_frames: int = 1000  # 50 s at 20 fps; the motion tokenizer and captioner see every frame
    max_search_k: int = 20
    max_pending: int = 64  # model jobs queued or running; more are refused with 503 (bounded memory)
    max_batch: int = 8  # seedless generations (and captions) queued together run as one batch
    max_steps: int = 8  # steps of one long motion ('walk | sit | wave'); each is a generation, each join a bridge
    max_motion_seconds: float = 60.0  # the whole of one long motion
    request_timeout_s: float = 120.0  # queue wait + model time of one request; 504 after it
    render_timeout_s: float = 120.0  # an .mp4 download
    max_pending_renders: int = 4
    stored_motions: int = 256  # the LRU of motions the page can view and download by id

    def __post_init__(self):
        for name, value in asdict(self).items():
            if not value > 0:
                raise UserInputError(f"server limit {name} must be positive, got {value}.")

    def public(self) -> dict:
        """The limits a client needs to know (shown by the page next to its inputs)."""
        keys = ("max_text_chars", "max_upload_bytes", "max_upload_frames",
                "max_search_k", "max_steps", "max_motion_seconds")
        return {key: getattr(self, key) for key in keys}


class BodyLimitMiddleware:
    """413 for a request body over its route's limit: at once from Content-Length, else while it streams in.

    `limit_for(path)` gives the byte limit of a path. A declared length over the limit is refused without reading a
    byte; a body without one (chunked) is buffered only up to the limit and refused as soon as it passes it. The
    route then reads the buffered body, so no handler ever sees more than its limit.
    """

    def __init__(self, app, limit_for):
        self.app, self.limit_for = app, limit_for

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http" or scope["method"] in ("GET", "HEAD", "OPTIONS"):
            return await self.app(scope, receive, send)
        limit = self.limit_for(scope["path"])
        declared = dict(scope["headers"]).get(b"content-length")
        if declared is not None:
            try:
                size = int(declared)
            except ValueError:
                return await _send_error(send, 400, "the Content-Length header is not a number.")
            if size > limit:
                return await _send_error(send, 413, _too_large(limit))
        chunks, received = [], 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            received += len(message.get("body", b""))
            if received > limit:
                return await _send_error(send, 413, _too_large(limit))
            chunks.append(message.get("body", b""))
            if not message.get("more_body", False):
                break
        replayed = False

        async def replay():
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": b"".join(chunks), "more_body": False}
            return await receive()  # after the body: wait for the disconnect like the server would

        await self.app(scope, replay, send)


def _too_large(limit: int) -> str:
    return f"the request body is larger than the limit of {limit} bytes."


async def _send_error(send, status: int, message: str) -> None:
    import json

    body = json.dumps({"error": message}).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()),
               (b"connection", b"close")]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})
