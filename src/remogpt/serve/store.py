"""The motions the page can view and download again by id: a bounded, thread-safe LRU in memory.

Generated and uploaded motions are stored with their features and joints. Retrieved references and database hits
are stored as motion tokens only (a few hundred bytes) and decoded the first time someone looks at them. Ids are
random hex strings made here; a request never names anything but an id, which is matched against `ID_PATTERN`.
"""

from __future__ import annotations

import re
import secrets
import threading
from collections import OrderedDict
from dataclasses import dataclass

import numpy as np

ID_PATTERN = re.compile(r"[0-9a-f]{16}")
SOURCES = ("generated", "uploaded", "database")  # database: a retrieved reference or a search hit


@dataclass
class StoredMotion:
    id: str
    title: str  # the prompt, the caption written for an upload, or a reference's caption
    source: str  # one of SOURCES
    fps: float
    tokens: list[int] | None = None
    features: np.ndarray | None = None  # (T, D) raw features
    joints: np.ndarray | None = None  # (T, J, 3)

    @property
    def decoded(self) -> bool:
        return self.joints is not None


class MotionStore:
    def __init__(self, capacity: int):
        self.capacity = capacity
        self._items: OrderedDict[str, StoredMotion] = OrderedDict()
        self._lock = threading.Lock()

    def __len__(self) -> int:
        with self._lock:
            return len(self._items)

    def add(self, title: str, source: str, fps: float, *, tokens=None, features=None, joints=None) -> StoredMotion:
        """Store a motion under a new id, evicting the least recently used one when full."""
        if source not in SOURCES:
            raise ValueError(f"source must be one of {SOURCES}, got {source!r}")
        motion = StoredMotion(secrets.token_hex(8), title, source, float(fps), tokens, features, joints)
        with self._lock:
            self._items[motion.id] = motion
            while len(self._items) > self.capacity:
                self._items.popitem(last=False)
        return motion

    def get(self, motion_id: str) -> StoredMotion | None:
        """The motion with this id (now the most recently used), or None if the id is malformed, unknown or evicted."""
        if not isinstance(motion_id, str) or not ID_PATTERN.fullmatch(motion_id):
            return None
        with self._lock:
            motion = self._items.get(motion_id)
            if motion is not None:
                self._items.move_to_end(motion_id)
            return motion
