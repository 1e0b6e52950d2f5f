"""The header timeout: stalled half-header connections are closed, so they cannot starve other clients."""

from __future__ import annotations

import socket
import threading
import time

import pytest

uvicorn = pytest.importorskip("uvicorn")


async def hello(scope, receive, send):
    if scope["type"] != "http":
        return
    await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"text/plain")]})
    await send({"type": "http.response.body", "body": b"hello"})


@pytest.fixture
def server():
    from remogpt.serve.connections import header_timeout_protocol

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    config = uvicorn.Config(hello, host="127.0.0.1", port=port, log_level="error", limit_concurrency=4,
                            http=header_timeout_protocol(0.5), lifespan="off")  # fmt: skip
    running = uvicorn.Server(config)
    thread = threading.Thread(target=running.run, daemon=True)
    thread.start()
    deadline = time.time() + 10
    while not running.started and time.time() < deadline:
        time.sleep(0.05)
    yield port
    running.should_exit = True
    thread.join(5)


def get(port: int) -> bytes:
    with socket.create_connection(("127.0.0.1", port), timeout=5) as connection:
        connection.sendall(b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        data = b""
        while chunk := connection.recv(4096):
            data += chunk
    return data


def test_stalled_headers_are_closed_and_others_are_served(server):
    stalled = [socket.create_connection(("127.0.0.1", server), timeout=5) for _ in range(4)]  # every slot
    for connection in stalled:
        connection.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n")  # half a header, then silence
    time.sleep(1.0)
    for connection in stalled:
        assert connection.recv(4096) == b""  # closed by the server
        connection.close()
    answer = get(server)
    assert answer.startswith(b"HTTP/1.1 200") and b"hello" in answer


def test_a_slow_but_complete_request_within_the_timeout_is_answered(server):
    with socket.create_connection(("127.0.0.1", server), timeout=5) as connection:
        connection.sendall(b"GET / HTTP/1.1\r\n")
        time.sleep(0.2)
        connection.sendall(b"Host: x\r\nConnection: close\r\n\r\n")
        assert connection.recv(4096).startswith(b"HTTP/1.1 200")
