"""Load test of `remogpt serve`: N concurrent POST /api/generate on loopback; latency percentiles and server memory.

    .venv/bin/python bench/bench_serve.py [--model DIR]                    # starts `remogpt serve` itself (default: shipped model)
    .venv/bin/python bench/bench_serve.py --model DIR --max-batch 1        # the same without batching
    .venv/bin/python bench/bench_serve.py --url http://127.0.0.1:8000      # a server already running (no RSS)

The server runs as its own process so its memory is measured alone: resident memory (RSS) after loading and one
warm-up request, the peak sampled every 20 ms during the burst, and the kernel's high-water mark (VmHWM). All
requests are sent at once from `--concurrency` threads; every one is answered (200, or 503 if the queue bound is
lower than the burst). Only loopback addresses are used.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import statistics
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor

PROMPTS = [
    "a person walks forward",
    "a person waves with the right hand",
    "a person jumps in place",
    "someone sits down slowly",
    "a person turns left and walks back",
    "a person kicks with the left leg",
]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def post(url: str, payload: dict, timeout: float) -> tuple[int, float]:
    body = json.dumps(payload).encode()
    request = urllib.request.Request(url, body, {"content-type": "application/json"}, method="POST")
    started = time.perf_counter()
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            response.read()
            status = response.status
    except urllib.error.HTTPError as error:
        error.read()
        status = error.code
    return status, time.perf_counter() - started


def memory_mb(pid: int, field: str) -> float:
    """VmRSS / VmHWM of a process in MB, from /proc."""
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith(field + ":"):
                return int(line.split()[1]) / 1024
    return float("nan")


class RssSampler(threading.Thread):
    def __init__(self, pid: int, every: float = 0.02):
        super().__init__(daemon=True)
        self.pid, self.every, self.peak, self.stop = pid, every, 0.0, threading.Event()

    def run(self):
        while not self.stop.is_set():
            self.peak = max(self.peak, memory_mb(self.pid, "VmRSS"))
            time.sleep(self.every)


def start_server(args) -> tuple[subprocess.Popen, str]:
    port = free_port()
    command = [sys.executable, "-c", "from remogpt.cli import main; main()", "serve", "--model", args.model,
               "--host", "127.0.0.1", "--port", str(port), "--max-batch", str(args.max_batch),
               "--max-pending", str(args.max_pending)]
    env = {**os.environ, "OMP_NUM_THREADS": os.environ.get("OMP_NUM_THREADS", str(os.cpu_count() or 1))}
    process = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"the server exited: {process.stderr.read()}")
        try:
            with urllib.request.urlopen(url + "/api/health", timeout=2):
                return process, url
        except OSError:
            time.sleep(0.5)
    process.kill()
    raise SystemExit("the server did not start within 300 s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", help="model directory; the benchmark starts `remogpt serve` on a free port")
    parser.add_argument("--url", help="a running server's loopback URL instead of --model")
    parser.add_argument("--requests", type=int, default=50)
    parser.add_argument("--concurrency", type=int, default=50)
    parser.add_argument("--length", type=float, default=None, help="length_seconds of every request (default: model's)")
    parser.add_argument("--max-batch", type=int, default=8)
    parser.add_argument("--max-pending", type=int, default=64)
    parser.add_argument("--timeout", type=float, default=600.0, help="client timeout per request, seconds")
    args = parser.parse_args()
    if args.model and args.url:
        parser.error("give one of --model and --url, not both")
    if not args.model and not args.url:  # the shipped model
        from remogpt.shipped import shipped_model_dir

        args.model = str(shipped_model_dir())
    if args.url and not args.url.startswith(("http://127.", "http://localhost", "http://[::1]")):
        parser.error("--url must be a loopback address")

    process = None
    if args.model:
        process, url = start_server(args)
    else:
        url = args.url.rstrip("/")
    try:
        payload = lambda i: {"text": PROMPTS[i % len(PROMPTS)], "length_seconds": args.length}  # noqa: E731
        post(url + "/api/generate", payload(0), args.timeout)  # warm-up: first-call allocations
        idle = memory_mb(process.pid, "VmRSS") if process else float("nan")
        sampler = RssSampler(process.pid) if process else None
        if sampler:
            sampler.start()
        started = time.perf_counter()
        with ThreadPoolExecutor(args.concurrency) as pool:
            results = list(pool.map(lambda i: post(url + "/api/generate", payload(i), args.timeout), range(args.requests)))
        wall = time.perf_counter() - started
        if sampler:
            sampler.stop.set()
            sampler.join()
        hwm = memory_mb(process.pid, "VmHWM") if process else float("nan")
    finally:
        if process:
            process.terminate()
            process.wait(30)

    latencies = sorted(seconds for status, seconds in results if status == 200)
    statuses = {}
    for status, _ in results:
        statuses[status] = statuses.get(status, 0) + 1
    quantile = lambda q: latencies[min(len(latencies) - 1, int(round(q * (len(latencies) - 1))))]  # noqa: E731
    print(f"{args.requests} concurrent POST /api/generate ({args.concurrency} threads), max_batch {args.max_batch}, "
          f"length {args.length or 'model'}; statuses {statuses}")
    if latencies:
        print(f"latency  p50 {quantile(0.5):.2f} s   p95 {quantile(0.95):.2f} s   max {latencies[-1]:.2f} s   "
              f"mean {statistics.mean(latencies):.2f} s")
    print(f"wall     {wall:.2f} s for the burst, {len(latencies) / wall:.2f} motions/s")
    if process:
        print(f"server   RSS idle {idle:.0f} MB, peak during the burst {sampler.peak:.0f} MB "
              f"(+{sampler.peak - idle:.0f} MB), high-water mark {hwm:.0f} MB")


if __name__ == "__main__":
    main()
