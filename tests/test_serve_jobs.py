"""The server's job queue (bounded, batched, timeouts), its motion store (LRU) and its upload parser; no model needed."""

from __future__ import annotations

import asyncio
import io
import threading
import time

import numpy as np
import pytest

from remogpt.errors import UserInputError
from remogpt.serve.jobs import JobQueue, JobTimeout, QueueFull
from remogpt.serve.store import MotionStore
from remogpt.serve.uploads import read_npy_bytes


def blocker():
    """A batch function that waits until released, recording the batches it ran."""
    release, batches = threading.Event(), []

    def run(payloads):
        release.wait(10)
        batches.append(list(payloads))
        return [p * 10 for p in payloads]

    return run, release, batches


def test_jobs_waiting_together_run_as_one_batch_in_order():
    queue = JobQueue("test", max_pending=16, max_batch=3)
    run, release, batches = blocker()
    first = queue.submit(run, 0, "k")  # occupies the worker
    time.sleep(0.05)
    others = [queue.submit(run, i, "k") for i in range(1, 6)]
    solo = queue.submit(run, 99, None)
    release.set()
    assert [f.result(5) for f in [first, *others, solo]] == [0, 10, 20, 30, 40, 50, 990]
    assert batches == [[0], [1, 2, 3], [4, 5], [99]]
    assert queue.pending == 0
    queue.shutdown(wait=True)


def test_queue_refuses_jobs_beyond_its_bound_and_frees_slots_when_done():
    queue = JobQueue("test", max_pending=2)
    run, release, _ = blocker()
    held = [queue.submit(run, 1), queue.submit(run, 2)]
    with pytest.raises(QueueFull, match="full"):
        queue.submit(run, 3)
    release.set()
    assert [f.result(5) for f in held] == [10, 20]
    assert queue.submit(run, 4).result(5) == 40
    queue.shutdown(wait=True)


def test_a_failing_job_does_not_fail_its_batch_mates():
    queue = JobQueue("test", max_pending=8, max_batch=8)
    gate = threading.Event()

    def run(payloads):
        gate.wait(5)
        if "bad" in payloads:
            raise UserInputError("bad payload")
        return [p.upper() for p in payloads]

    futures = [queue.submit(run, p, "k") for p in ("a", "bad", "c")]
    gate.set()
    assert futures[0].result(5) == "A" and futures[2].result(5) == "C"
    with pytest.raises(UserInputError, match="bad payload"):
        futures[1].result(5)
    queue.shutdown(wait=True)


def test_timeout_cancels_a_queued_job_and_keeps_the_bound_while_one_runs():
    queue = JobQueue("test", max_pending=2)
    run, release, batches = blocker()

    async def scenario():
        running = queue.submit(run, 1)
        await asyncio.sleep(0.05)
        with pytest.raises(JobTimeout, match="0.05 s"):
            await queue.run(run, 2, timeout=0.05)  # queued behind the blocker: cancelled, never runs
        assert queue.pending == 1  # the running job still holds its slot
        release.set()
        assert await asyncio.wrap_future(running) == 10

    asyncio.run(scenario())
    time.sleep(0.05)
    assert batches == [[1]] and queue.pending == 0
    queue.shutdown(wait=True)


def test_store_is_an_lru_of_random_ids():
    store = MotionStore(capacity=2)
    a = store.add("a", "generated", 20, tokens=[1])
    b = store.add("b", "generated", 20, tokens=[2])
    assert store.get(a.id) is a  # a is now the most recent
    c = store.add("c", "uploaded", 20, tokens=[3])
    assert store.get(b.id) is None and store.get(a.id) is a and store.get(c.id) is c
    assert len({a.id, b.id, c.id}) == 3 and all(len(m.id) == 16 for m in (a, b, c))
    for bad in ("../etc/passwd", a.id.upper(), a.id + "0", "", None):
        assert store.get(bad) is None


def npy_bytes(array, **kwargs) -> bytes:
    buffer = io.BytesIO()
    np.save(buffer, array, **kwargs)
    return buffer.getvalue()


def test_npy_bytes_are_parsed_without_pickle_and_checked_against_their_header():
    array = np.arange(12, dtype=np.float32).reshape(3, 4)
    np.testing.assert_array_equal(read_npy_bytes(npy_bytes(array)), array)
    with pytest.raises(UserInputError, match="expected real numbers"):
        read_npy_bytes(npy_bytes(np.array([{"a": 1}], dtype=object), allow_pickle=True))
    with pytest.raises(UserInputError, match="expected real numbers"):
        read_npy_bytes(npy_bytes(np.array(["text"])))
    with pytest.raises(UserInputError, match="is empty"):
        read_npy_bytes(b"")
    with pytest.raises(UserInputError, match="not a .npy file"):
        read_npy_bytes(b"PK\x03\x04 a zip archive")
    # an unreadable header, and a header that promises more data than follows (refused before numpy allocates)
    raw = bytearray(npy_bytes(np.zeros((2, 2), np.float32)))
    start = raw.index(b"(2, 2)")
    raw[start:start + 6] = b"(9**9)"
    with pytest.raises(UserInputError, match="header"):
        read_npy_bytes(bytes(raw))
    truncated = npy_bytes(np.zeros((10**6,), np.uint8))[:200]
    with pytest.raises(UserInputError, match=r"declares shape \(1000000,\)"):
        read_npy_bytes(truncated)
