"""Retrieval search throughput: FAISS exact (IndexFlatIP) vs IVF vs a plain torch matmul + topk.

    .venv/bin/python bench/bench_retrieval.py                      # 10k and 1M entries, 1/64/1024 queries, 1 thread
    .venv/bin/python bench/bench_retrieval.py --sizes 10000 --threads 2
    .venv/bin/python bench/bench_retrieval.py --clustered          # embeddings with cluster structure (IVF-friendly)

Database and queries are random L2-normalised 256-d vectors (queries are noisy copies of database entries, as a
retrieval query is near what it should find). For each database size and query batch: queries per second of
exact FAISS search, of IVF search (nlist = sqrt(N) cells, `--nprobe` cells probed) with its recall@10 against exact,
and of torch `q @ db.T` + `topk` (queries in chunks so the score matrix stays small). Uniform random vectors have no
cluster structure, the worst case for IVF recall; `--clustered` is closer to real embeddings. The same index code
as the database (`remogpt.retrieval.database.make_index`). Writes bench/results/retrieval.json and .md.
"""

from __future__ import annotations

import argparse
import json
import platform
import time
from pathlib import Path

import numpy as np
import torch

from remogpt.retrieval.database import make_index

RESULTS = Path(__file__).resolve().parent / "results"
UNIFORM_NOTE = (
    "Uniform random vectors have no neighbourhood structure: apart from the query's source entry, its exact top-10 are "
    "near-ties, so IVF recall@10 is a worst case here; see retrieval_clustered.md for embeddings with clusters."
)


def unit(rows: np.ndarray) -> np.ndarray:
    return (rows / np.linalg.norm(rows, axis=1, keepdims=True)).astype(np.float32)


def make_database(size: int, dim: int, clustered: bool, rng: np.random.Generator) -> np.ndarray:
    """(size, dim) float32 unit vectors, built in chunks to keep peak memory near the result's."""
    centres = unit(rng.standard_normal((1024, dim), dtype=np.float32)) if clustered else None
    out = np.empty((size, dim), dtype=np.float32)
    for start in range(0, size, 100_000):
        stop = min(size, start + 100_000)
        block = rng.standard_normal((stop - start, dim), dtype=np.float32)
        if clustered:
            block = centres[rng.integers(len(centres), size=stop - start)] * 4.0 + block / np.sqrt(dim) * 4.0
        out[start:stop] = unit(block)
    return out


def timed(function, min_seconds: float = 0.5, max_repeats: int = 20) -> tuple[float, object]:
    """Best wall time over repeats (at least one run, more while under min_seconds in total)."""
    best, total, repeats, result = float("inf"), 0.0, 0, None
    while repeats < max_repeats and (repeats == 0 or total < min_seconds):
        start = time.perf_counter()
        result = function()
        elapsed = time.perf_counter() - start
        best, total, repeats = min(best, elapsed), total + elapsed, repeats + 1
    return best, result


def torch_topk(database: torch.Tensor, queries: torch.Tensor, k: int, chunk: int = 64) -> torch.Tensor:
    rows = []
    for start in range(0, len(queries), chunk):
        scores = queries[start : start + chunk] @ database.T
        rows.append(scores.topk(k, dim=1).indices)
    return torch.cat(rows)


def recall_at(found: np.ndarray, exact: np.ndarray) -> float:
    return float(np.mean([len(set(f[f >= 0]) & set(e)) / len(e) for f, e in zip(found, exact)]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 1_000_000])
    parser.add_argument("--queries", type=int, nargs="+", default=[1, 64, 1024])
    parser.add_argument("--dim", type=int, default=256)
    parser.add_argument("--k", type=int, default=10)
    parser.add_argument("--nprobe", type=int, default=16)
    parser.add_argument("--threads", type=int, default=1, help="FAISS and torch threads (1 is steadiest on a shared CPU)")
    parser.add_argument("--clustered", action="store_true", help="clustered embeddings instead of uniform ones")
    parser.add_argument("--out", type=Path, default=RESULTS / "retrieval.json")
    args = parser.parse_args()

    import faiss

    faiss.omp_set_num_threads(args.threads)
    torch.set_num_threads(args.threads)
    rng = np.random.default_rng(0)
    rows = []
    for size in args.sizes:
        database = make_database(size, args.dim, args.clustered, rng)
        start = time.perf_counter()
        exact_index = make_index(database, "flat")
        build_flat = time.perf_counter() - start
        start = time.perf_counter()
        nlist = max(1, int(np.sqrt(size)))
        ivf_index = make_index(database, "ivf", nlist=nlist, nprobe=args.nprobe)
        build_ivf = time.perf_counter() - start
        database_t = torch.from_numpy(database)
        print(f"N={size:>9,}: flat built in {build_flat:.2f} s, IVF{nlist} (nprobe {args.nprobe}) in {build_ivf:.2f} s")
        for count in args.queries:
            picks = rng.integers(size, size=count)
            queries = unit(database[picks] + 0.5 / np.sqrt(args.dim) * rng.standard_normal((count, args.dim), dtype=np.float32))
            t_flat, (_, exact) = timed(lambda: exact_index.search(queries, args.k))
            t_ivf, (_, approx) = timed(lambda: ivf_index.search(queries, args.k))
            queries_t = torch.from_numpy(queries)
            t_torch, found_t = timed(lambda: torch_topk(database_t, queries_t, args.k))
            row = {
                "database": size,
                "queries": count,
                "flat_qps": count / t_flat,
                "ivf_qps": count / t_ivf,
                "torch_qps": count / t_torch,
                "ivf_recall@10": recall_at(approx, exact),
                "torch_recall@10": recall_at(found_t.numpy(), exact),
                "ivf_nlist": nlist,
                "ivf_nprobe": args.nprobe,
            }
            rows.append(row)
            print(
                f"  {count:>5} queries: flat {row['flat_qps']:>10,.0f} q/s | IVF {row['ivf_qps']:>10,.0f} q/s "
                f"(x{row['ivf_qps'] / row['flat_qps']:.1f}, recall@10 {row['ivf_recall@10']:.3f}) | "
                f"torch {row['torch_qps']:>10,.0f} q/s (x{row['torch_qps'] / row['flat_qps']:.2f} of flat)"
            )
        del database, database_t, exact_index, ivf_index

    report = {
        "settings": {**{k: (str(v) if isinstance(v, Path) else v) for k, v in vars(args).items()}},
        "machine": {"cpu": platform.processor() or platform.machine(), "torch": torch.__version__, "faiss": faiss.__version__},
        "rows": rows,
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=2) + "\n")
    lines = [
        f"Retrieval search, {args.dim}-d {'clustered' if args.clustered else 'uniform random'} unit vectors, "
        f"top-{args.k}, {args.threads} thread(s). Queries per second.",
        "",
        "| database | queries | FAISS flat (exact) | FAISS IVF | IVF recall@10 | torch matmul+topk |",
        "|---|---|---|---|---|---|",
    ]
    for r in rows:
        lines.append(
            f"| {r['database']:,} | {r['queries']} | {r['flat_qps']:,.0f} | {r['ivf_qps']:,.0f} "
            f"(IVF{r['ivf_nlist']}, nprobe {r['ivf_nprobe']}) | {r['ivf_recall@10']:.3f} | {r['torch_qps']:,.0f} |"
        )
    if not args.clustered:
        lines += ["", UNIFORM_NOTE]
    args.out.with_suffix(".md").write_text("\n".join(lines) + "\n")
    print(f"wrote {args.out} and {args.out.with_suffix('.md')}")


if __name__ == "__main__":
    main()
