"""What the server does with the model: batched generation, captioning, search and decoding, plus exports.

Every `*_batch` method takes a list of requests and returns one result per request; they run on the model's job
thread (jobs.py), never concurrently. Results are stored in the MotionStore so the page can replay and download
them by id.
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Sequence

import numpy as np

from .limits import ServeLimits
from .store import MotionStore, StoredMotion

@dataclass(frozen=True)
class GenerateRequest:
    text: str
    frames: int | None = None
    seed: int | None = None


@dataclass(frozen=True)
class LongRequest:
    steps: tuple  # timeline.Step, in order
    transition_seconds: float
    seed: int | None = None


@dataclass
class ReferenceView:
    """A retrieved (caption, motion) pair; `motion` is a lazily decoded store entry (None without tokens)."""

    kind: str  # the similarity type that found it, e.g. "text->motion"
    caption: str
    motion: StoredMotion | None
    name: str | None = None
    similarity: float | None = None


@dataclass
class MotionResult:
    motion: StoredMotion
    references: list[ReferenceView]
    caption: str | None = None
    notices: list[str] = field(default_factory=list)  # unknown words, a poor match (notices.py)
    segments: list[tuple[str, float, float]] = field(default_factory=list)  # a long motion's steps: text, start s, end s


class DemoService:
    def __init__(self, model, limits: ServeLimits, store: MotionStore):
        self.model, self.limits, self.store = model, limits, store
        self.fps = float(model.config.fps)
        self.feature_dim = int(model.config.feature_dim)
        # database motions already in the store, by (caption, tokens): repeated references and search hits reuse
        # one entry instead of flooding the LRU (bounded by the database's size)
        self._database_ids: dict[tuple, str] = {}

    # ---- facts about the model
    @property
    def retrieval(self) -> str:
        return self.model.retrieval

    @property
    def database_size(self) -> int:
        return self.model.database_size

    def has_database(self) -> bool:
        return self.model.can_search()

    # ---- batched model work (the job thread)
    def generate_batch(self, requests: Sequence[GenerateRequest]) -> list[MotionResult]:
        """One `generate_motions` call; a request with a seed is always alone in its batch (see api.py)."""
        seed = requests[0].seed if len(requests) == 1 else None
        motions = self.model.generate_motions([r.text for r in requests], [r.frames for r in requests], seed=seed)
        results = []
        for request, generated in zip(requests, motions):
            stored = self._store_generated(request.text, generated)
            results.append(MotionResult(stored, self._references(generated.context), notices=generated.notices))
        return results

    def generate_long_batch(self, requests: Sequence[LongRequest]) -> list[MotionResult]:
        """Long motions (timeline.py), one after another: each already batches its steps and its bridges."""
        from ..timeline import generate_long

        results = []
        for request in requests:
            long = generate_long(self.model, list(request.steps), request.transition_seconds, seed=request.seed)
            motion = long.motion
            stored = self._store_generated(motion.text, motion)
            segments = [(step.text, start / self.fps, end / self.fps) for step, (start, end) in zip(long.steps, long.segments)]
            results.append(MotionResult(stored, self._references(motion.context), notices=motion.notices, segments=segments))
        return results

    def continue_batch(self, requests: Sequence[tuple[StoredMotion, int | None, int | None]]) -> list[MotionResult]:
        """Continuations of stored motions, (motion, frames, seed) each: the whole motion, start and what follows
        (ReMoGPT.predict); a request with a seed is alone in its batch (see api.py)."""
        self.decode_batch([motion for motion, _, _ in requests])
        seed = requests[0][2] if len(requests) == 1 else None
        continued = self.model.predict([m.features for m, _, _ in requests], [f for _, f, _ in requests], seed=seed)
        results = []
        for (motion, _, _), new in zip(requests, continued):
            stored = self._store_generated(f"{motion.title} (continued)", new)
            results.append(MotionResult(stored, []))
        return results

    def caption_batch(self, uploads: Sequence[bytes]) -> list[MotionResult]:
        """Captions of uploaded .npy files (features or joints); each upload is stored under its caption.

        Parsing happens here, on the job thread, so concurrent uploads are converted one batch at a time.
        """
        from .uploads import motion_from_upload

        motions = [
            motion_from_upload(data, feature_dim=self.feature_dim, max_frames=self.limits.max_upload_frames)
            for data in uploads
        ]
        captions = self.model.caption_motions([features for features, _ in motions])
        results = []
        for (features, joints), (caption, references) in zip(motions, captions):
            stored = self.store.add(caption, "uploaded", self.fps, features=features, joints=joints)
            results.append(MotionResult(stored, self._references(references), caption, self.model.context_notices(references)))
        return results

    def search_batch(self, queries: Sequence[tuple[str, int]]) -> list[dict[str, list[ReferenceView]]]:
        """Database hits of text queries: {"text->motion": [...], "text->text": [...]} per (query, k)."""
        k = max(k for _, k in queries)
        found = self.model.search([text for text, _ in queries], k)
        results = []
        for (_, want), hits_by_kind in zip(queries, found):
            results.append({
                kind: [self._hit_view(hit) for hit in hits[:want]] for kind, hits in hits_by_kind.items()
            })
        return results

    def decode_batch(self, motions: Sequence[StoredMotion]) -> list[StoredMotion]:
        """Decode token-only store entries (references, database hits) into features and joints."""
        from ..motion.features import features_to_joints

        todo = [m for m in motions if not m.decoded]
        if todo:
            features = self.model.decode([m.tokens for m in todo])
            for motion, array in zip(todo, features):
                motion.features = np.asarray(array, np.float32)
                motion.joints = features_to_joints(motion.features).astype(np.float32)  # set last: marks decoded
        return list(motions)

    # ---- exports (the render thread; the motion is decoded already)
    @staticmethod
    def render_mp4(motion: StoredMotion) -> bytes:
        from ..render import render_motion

        with tempfile.TemporaryDirectory(prefix="remogpt-serve-") as folder:
            path = Path(folder) / "motion.mp4"
            render_motion(motion.joints, path, title=motion.title, fps=motion.fps)
            return path.read_bytes()

    @staticmethod
    def bvh_text(motion: StoredMotion) -> bytes:
        """The motion as BVH (remogpt.render.bvh); ImportError while that module is not installed."""
        from ..render.bvh import write_bvh

        with tempfile.TemporaryDirectory(prefix="remogpt-serve-") as folder:
            path = Path(folder) / "motion.bvh"
            write_bvh(motion.joints, path, fps=motion.fps)
            return path.read_bytes()

    # ---- helpers
    def _store_generated(self, title: str, motion) -> StoredMotion:
        """A pipeline.GeneratedMotion in the store, decoded (tokens, features, joints)."""
        return self.store.add(title, "generated", self.fps, tokens=list(motion.tokens), features=motion.features,
                              joints=np.asarray(motion.joints, np.float32))  # fmt: skip

    def _references(self, references) -> list[ReferenceView]:
        """Store the prompt's references (language.prompts.Reference) as token-only entries."""
        return [self._hit_view(reference) for reference in references]

    def _hit_view(self, reference) -> ReferenceView:
        stored = self._database_motion(reference.caption, reference.codes)
        return ReferenceView(reference.kind, reference.caption, stored, name=reference.name, similarity=reference.similarity)

    def _database_motion(self, caption: str, codes: Sequence[int]) -> StoredMotion | None:
        if not codes:
            return None
        key = (caption, tuple(int(c) for c in codes))
        known = self._database_ids.get(key)
        stored = self.store.get(known) if known else None
        if stored is None:
            stored = self.store.add(caption, "database", self.fps, tokens=list(key[1]))
            self._database_ids[key] = stored.id
        return stored
