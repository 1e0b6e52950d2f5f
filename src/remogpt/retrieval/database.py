"""The retrieval database: PL-TMR embeddings of every (motion, caption) pair of a split plus FAISS indexes.

    db = RetrievalDatabase.build(model, HumanML3DFolder(data).samples("train"), retriever_dir=...)
    db.save("index/")
    db = RetrievalDatabase.load("index/")
    hits = db.search_texts(["a person waves"], k=1)          # [{"text->motion": [Hit], "text->text": [Hit]}]
    hits = db.search_motions([features], k=1, exclude=[Exclude(motion_id="000021")])

Four similarity types (paper §2.3), each with its own top-k; the language model concatenates the lists:
text->motion and text->text for a caption query, motion->text and motion->motion for a motion query. Motions are
indexed once each (a sample: a whole clip or a timed slice), captions once per (motion, caption) pair. A hit on a
motion carries that motion's first caption; a hit on a caption carries its motion. Cosine similarity = inner
product of L2-normalised embeddings: exact `IndexFlatIP` by default, IVF or HNSW for large databases.

On disk (config.json last, so a folder with a config.json is complete):
    config.json                  DatabaseConfig
    entries.json                 motions [{name, motion_id, caption}], pairs [[motion row, caption]]
    motion_embeddings.npy        (M, d) float32
    text_embeddings.npy          (P, d) float32
    motion.faiss, text.faiss     the indexes (ivf / hnsw only; a flat index is rebuilt from the embeddings)
    tokens.npy, token_offsets.npy   motion tokens of each motion, concatenated (optional)
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Sequence

import numpy as np

from ..config import ReMoGPTConfig, is_model_directory
from ..errors import UserInputError
from ..io import atomic_path, save_json, save_npy
from ..pretrained import read_config, write_config
from .text_encoder import normalize_caption

INDEX_TYPES = ("flat", "ivf", "hnsw")
KINDS = ("text->motion", "text->text", "motion->text", "motion->motion")
CONFIG_NAME = "config.json"
ENTRIES_NAME = "entries.json"


# ------------------------------------------------------------------------------------------------- FAISS indexes
def make_index(
    embeddings: np.ndarray, kind: str = "flat", *, nlist: int = 0, nprobe: int = 16, hnsw_m: int = 32, ef_search: int = 64
):
    """A FAISS inner-product index over (N, d) float32 embeddings.

    flat: exact. ivf: inverted lists (nlist 0 = about 4 sqrt(N) cells), `nprobe` cells searched.
    hnsw: graph index with `hnsw_m` links per node, `ef_search` candidates per query.
    """
    import faiss

    embeddings = np.ascontiguousarray(embeddings, dtype=np.float32)
    count, dim = embeddings.shape
    if kind == "flat":
        index = faiss.IndexFlatIP(dim)
    elif kind == "ivf":
        cells = nlist or int(4 * np.sqrt(max(count, 1)))
        cells = max(1, min(cells, count // 39 if count >= 39 else 1))  # FAISS wants ~39 training points per cell
        index = faiss.index_factory(dim, f"IVF{cells},Flat", faiss.METRIC_INNER_PRODUCT)
        # k-means on 64 points per cell is plenty and keeps training a 1M-entry index to seconds
        sample = np.random.default_rng(0).choice(count, size=min(count, 64 * cells), replace=False)
        index.train(embeddings[np.sort(sample)])
        index.nprobe = min(nprobe, cells)
    elif kind == "hnsw":
        index = faiss.IndexHNSWFlat(dim, hnsw_m, faiss.METRIC_INNER_PRODUCT)
        index.hnsw.efSearch = ef_search
    else:
        raise UserInputError(f"index type '{kind}' is unknown, expected one of {', '.join(INDEX_TYPES)}.")
    if count:
        index.add(embeddings)
    return index


# ------------------------------------------------------------------------------------------------- records
@dataclass
class DatabaseConfig:
    retriever: str  # the PL-TMR directory whose embeddings these are (queries must use the same model)
    data: str  # the dataset folder the entries come from
    split: str
    latent_dim: int
    num_motions: int = 0
    num_pairs: int = 0
    index: str = "flat"
    nlist: int = 0
    nprobe: int = 16
    hnsw_m: int = 32
    ef_search: int = 64
    has_tokens: bool = False
    retriever_parts: int = 6


@dataclass(frozen=True)
class Hit:
    """One retrieved (motion, caption) pair."""

    kind: str  # one of KINDS
    rank: int  # 1-based within its kind
    name: str  # the sample name (motion id, or id@start-end for a timed caption)
    motion_id: str  # the clip it comes from
    caption: str
    similarity: float
    tokens: list[int] | None = None

    def to_dict(self) -> dict:
        return {
            "kind": self.kind,
            "rank": self.rank,
            "name": self.name,
            "motion_id": self.motion_id,
            "caption": self.caption,
            "similarity": round(self.similarity, 6),
            **({"tokens": self.tokens} if self.tokens is not None else {}),
        }


@dataclass(frozen=True)
class Exclude:
    """What a query must not retrieve: its own clip and that clip's mirror, and/or entries with its caption."""

    motion_id: str | None = None
    caption: str | None = None


def clip_key(motion_id: str) -> str:
    """The same key for a clip and its mirror ('000021' and 'M000021'; 'humanml/000021' and 'humanml/M000021')."""
    from ..data.folder import is_mirror, mirror_id

    return mirror_id(motion_id) if is_mirror(motion_id) else motion_id


# ------------------------------------------------------------------------------------------------- the database
@dataclass
class RetrievalDatabase:
    config: DatabaseConfig
    motion_names: list[str]
    motion_ids: list[str]
    motion_captions: list[str]  # the first caption of each motion
    pair_motion: np.ndarray  # (P,) motion row of each (motion, caption) pair
    pair_captions: list[str]
    motion_embeddings: np.ndarray  # (M, d)
    text_embeddings: np.ndarray  # (P, d)
    tokens: list[list[int]] | None = None
    _indexes: dict = field(default_factory=dict, repr=False)

    def __post_init__(self):
        self.config.has_tokens = self.tokens is not None
        self._motion_keys = np.array([clip_key(i) for i in self.motion_ids], dtype=object)
        self._pair_keys = self._motion_keys[self.pair_motion] if len(self.pair_motion) else np.array([], dtype=object)
        self._pair_norm = np.array([normalize_caption(c) for c in self.pair_captions], dtype=object)
        self._motion_norm = np.array([normalize_caption(c) for c in self.motion_captions], dtype=object)

    def __len__(self) -> int:
        return len(self.pair_captions)

    # ---- building
    @classmethod
    def build(
        cls,
        model,
        samples: Sequence,
        *,
        retriever_dir: str | os.PathLike,
        data: str | os.PathLike,
        split: str,
        index: str = "flat",
        nlist: int = 0,
        nprobe: int = 16,
        hnsw_m: int = 32,
        ef_search: int = 64,
        encode_tokens: Callable[[list[np.ndarray]], Sequence[Sequence[int]]] | None = None,
        batch_size: int = 128,
        text_cache=None,
    ) -> "RetrievalDatabase":
        """Embed every motion and every (motion, caption) pair of `samples` (remogpt.data.folder.Sample).

        `encode_tokens` (optional) turns a list of raw feature arrays into motion-token lists, stored per motion.
        `text_cache` (optional) is a TokenFeatureCache of the model's frozen encoder holding the captions already.
        """
        if index not in INDEX_TYPES:
            raise UserInputError(f"index type '{index}' is unknown, expected one of {', '.join(INDEX_TYPES)}.")
        if not samples:
            raise UserInputError(f"split '{split}' of '{data}' has no text-motion samples to index.")
        names = [s.name for s in samples]
        motion_ids = [s.motion_id for s in samples]
        first = [s.captions[0].text for s in samples]
        pair_motion = np.array([row for row, s in enumerate(samples) for _ in s.captions], dtype=np.int64)
        pair_captions = [c.text for s in samples for c in s.captions]
        motion_embeddings = model.embed_motions([s.features for s in samples], batch_size=batch_size)
        cache = text_cache if text_cache is not None else model.token_cache(pair_captions)
        text_embeddings = model.embed_token_features(cache, pair_captions, batch_size=max(batch_size, 256))
        tokens = None
        if encode_tokens is not None:  # e.g. MotionTokenizer.encode: raw features -> motion tokens, batched
            tokens = [list(map(int, t)) for t in encode_tokens([s.features for s in samples])]
        config = DatabaseConfig(
            retriever=str(Path(retriever_dir).resolve()),
            data=str(Path(data).resolve()),
            split=split,
            latent_dim=int(motion_embeddings.shape[1]),
            num_motions=len(samples),
            num_pairs=len(pair_captions),
            index=index,
            nlist=nlist,
            nprobe=nprobe,
            hnsw_m=hnsw_m,
            ef_search=ef_search,
            has_tokens=tokens is not None,
            retriever_parts=int(model.config.parts),
        )
        return cls(config, names, motion_ids, first, pair_motion, pair_captions, motion_embeddings, text_embeddings, tokens)

    def index_for(self, target: str):
        """The FAISS index over motions or over captions (built on first use after loading)."""
        if target not in self._indexes:
            embeddings = self.motion_embeddings if target == "motion" else self.text_embeddings
            c = self.config
            self._indexes[target] = make_index(
                embeddings, c.index, nlist=c.nlist, nprobe=c.nprobe, hnsw_m=c.hnsw_m, ef_search=c.ef_search
            )
        return self._indexes[target]

    # ---- persistence
    def save(self, directory: str | os.PathLike) -> Path:
        import faiss

        directory = Path(directory)
        directory.mkdir(parents=True, exist_ok=True)
        save_json(
            directory / ENTRIES_NAME,
            {
                "motions": [
                    {"name": n, "motion_id": m, "caption": c}
                    for n, m, c in zip(self.motion_names, self.motion_ids, self.motion_captions)
                ],
                "pairs": [[int(r), c] for r, c in zip(self.pair_motion, self.pair_captions)],
            },
        )
        save_npy(directory / "motion_embeddings.npy", self.motion_embeddings.astype(np.float32))
        save_npy(directory / "text_embeddings.npy", self.text_embeddings.astype(np.float32))
        for target in ("motion", "text"):
            if self.config.index == "flat":
                # a flat index is the embeddings themselves: rebuilt in milliseconds at load, so not stored twice
                (directory / f"{target}.faiss").unlink(missing_ok=True)
                continue
            with atomic_path(directory / f"{target}.faiss") as tmp:
                faiss.write_index(self.index_for(target), str(tmp))
        if self.tokens is not None:
            lengths = np.array([len(t) for t in self.tokens], dtype=np.int64)
            save_npy(directory / "token_offsets.npy", np.concatenate([[0], np.cumsum(lengths)]).astype(np.int64))
            flat = np.concatenate([np.asarray(t, dtype=np.int64) for t in self.tokens]) if lengths.sum() else np.zeros(0, np.int64)
            save_npy(directory / "tokens.npy", flat)
        from dataclasses import replace

        from ..io import portable

        # `data` is a record (no folder of the building machine); `retriever` is read back, so it stays as it is
        write_config(directory / CONFIG_NAME, replace(self.config, data=portable(self.config.data)), kind="remogpt-retrieval-database")
        return directory

    @classmethod
    def load(cls, directory: str | os.PathLike) -> "RetrievalDatabase":
        import faiss

        from ..io import load_npy

        directory = Path(directory)
        if is_model_directory(directory):
            directory = directory / ReMoGPTConfig.read(directory).database  # a ReMoGPT model directory: use the database it was trained with
        if not (directory / CONFIG_NAME).is_file():
            raise UserInputError(f"index folder '{directory}' has no {CONFIG_NAME}; build it with `remogpt index build`.")
        config = read_config(directory / CONFIG_NAME, DatabaseConfig, ignore=("kind",))
        try:
            entries = json.loads((directory / ENTRIES_NAME).read_text())
            motions, pairs = entries["motions"], entries["pairs"]
        except (OSError, ValueError, KeyError) as error:
            raise UserInputError(f"index folder '{directory}' has no readable {ENTRIES_NAME} ({error}).") from None
        motion_embeddings = load_npy(directory / "motion_embeddings.npy", name="motion embeddings").astype(np.float32)
        text_embeddings = load_npy(directory / "text_embeddings.npy", name="text embeddings").astype(np.float32)
        if len(motion_embeddings) != len(motions) or len(text_embeddings) != len(pairs):
            raise UserInputError(f"index folder '{directory}' has embeddings that do not match its {ENTRIES_NAME}.")
        tokens = None
        if config.has_tokens:
            offsets = load_npy(directory / "token_offsets.npy", name="token offsets")
            flat = load_npy(directory / "tokens.npy", name="tokens")
            tokens = [flat[offsets[i] : offsets[i + 1]].tolist() for i in range(len(offsets) - 1)]
        database = cls(
            config,
            [m["name"] for m in motions],
            [m["motion_id"] for m in motions],
            [m["caption"] for m in motions],
            np.array([p[0] for p in pairs], dtype=np.int64),
            [p[1] for p in pairs],
            motion_embeddings,
            text_embeddings,
            tokens,
        )
        for target in ("motion", "text"):
            path = directory / f"{target}.faiss"
            if path.is_file():
                try:
                    database._indexes[target] = faiss.read_index(str(path))
                except RuntimeError:  # faiss's own error for a damaged or foreign file
                    raise UserInputError(f"index file '{path}' is not a FAISS index; rebuild it with `remogpt index build`.") from None
        database.location = directory
        return database

    def retriever_path(self) -> Path:
        """The copy beside the database inside a ReMoGPT model directory, else the path recorded at build time."""
        location = getattr(self, "location", None)
        location = location.resolve() if location is not None else None  # a symlink to a model's database too
        if location is not None and is_model_directory(location.parent):
            return location.parent / ReMoGPTConfig.read(location.parent).retriever
        return Path(self.config.retriever)

    def load_retriever(self, directory: str | os.PathLike | None = None, map_location: str = "cpu"):
        """The PL-TMR model that embeds queries for this database.

        Inside a ReMoGPT model directory that is the copy beside the database (the recorded training path may not
        exist on this machine, e.g. for the shipped model); otherwise the recorded path, unless another is given.
        """
        from .model import PLTMR

        if directory is None:
            directory = self.retriever_path()
            if not Path(directory).is_dir():  # e.g. a model's database copied out; from_pretrained checks the rest
                raise UserInputError(
                    f"database '{getattr(self, 'location', '?')}' names its retriever '{directory}', which does not exist; "
                    "a model directory's database uses the retriever beside it, so keep it there or rebuild it with "
                    "`remogpt index build`."
                )
        model = PLTMR.from_pretrained(directory, map_location=map_location)
        if model.config.latent_dim != self.config.latent_dim:
            raise UserInputError(
                f"retriever '{directory}' embeds into {model.config.latent_dim} dims, "
                f"but the index holds {self.config.latent_dim}-dim embeddings."
            )
        return model

    # ---- search
    def search(
        self,
        queries: np.ndarray,
        source: str,
        *,
        k: int | dict[str, int] = 1,
        targets: Sequence[str] | None = None,
        exclude: Sequence[Exclude | None] | None = None,
    ) -> list[dict[str, list[Hit]]]:
        """Top-k per similarity type for (Q, d) query embeddings from `source` ('text' or 'motion').

        `targets` defaults to the paper's order: text->motion, text->text; motion->text, motion->motion.
        `k` is one number for every type or a dict {kind: k}. `exclude[i]` removes query i's own clip, its mirror
        (when motion_id is set) and entries whose caption equals caption (case and spacing ignored).
        """
        if source not in ("text", "motion"):
            raise ValueError(f"source must be 'text' or 'motion', got {source!r}")
        queries = np.ascontiguousarray(np.atleast_2d(queries), dtype=np.float32)
        if queries.shape[1] != self.config.latent_dim:
            raise UserInputError(
                f"queries have {queries.shape[1]} dims, but the index holds {self.config.latent_dim}-dim embeddings."
            )
        exclude = list(exclude) if exclude is not None else [None] * len(queries)
        if len(exclude) != len(queries):
            raise ValueError("exclude needs one entry (or None) per query")
        if targets is None:
            targets = ("motion", "text") if source == "text" else ("text", "motion")
        results: list[dict[str, list[Hit]]] = [{} for _ in queries]
        for target in targets:
            kind = f"{source}->{target}"
            want = k.get(kind, 0) if isinstance(k, dict) else int(k)
            if want < 1:
                continue
            rows = self._search_filtered(queries, target, want, exclude)
            for result, found in zip(results, rows):
                result[kind] = [self._hit(kind, rank, target, row, score) for rank, (row, score) in enumerate(found, 1)]
        return results

    def search_texts(self, texts: Sequence[str], model, **kwargs) -> list[dict[str, list[Hit]]]:
        """Caption queries embedded with `model` (this database's retriever); text->motion and text->text."""
        return self.search(model.embed_texts(texts), "text", **kwargs)

    def search_motions(self, motions: Sequence[np.ndarray], model, **kwargs) -> list[dict[str, list[Hit]]]:
        """Raw (T, D) feature queries embedded with `model`; motion->text and motion->motion."""
        return self.search(model.embed_motions(motions), "motion", **kwargs)

    def _excluded(self, target: str, rows: np.ndarray, rule: Exclude | None) -> np.ndarray:
        if rule is None:
            return np.zeros(len(rows), dtype=bool)
        keys = self._motion_keys if target == "motion" else self._pair_keys
        texts = self._motion_norm if target == "motion" else self._pair_norm
        drop = np.zeros(len(rows), dtype=bool)
        if rule.motion_id is not None:
            drop |= keys[rows] == clip_key(rule.motion_id)
        if rule.caption is not None:
            if target == "motion":
                # a motion is excluded when any of its captions is the query's caption
                drop |= np.isin(rows, self._motions_with_caption(normalize_caption(rule.caption)))
            else:
                drop |= texts[rows] == normalize_caption(rule.caption)
        return drop

    def _motions_with_caption(self, caption: str) -> np.ndarray:
        return np.unique(self.pair_motion[self._pair_norm == caption])

    def _search_filtered(
        self, queries: np.ndarray, target: str, k: int, exclude: list[Exclude | None]
    ) -> list[list[tuple[int, float]]]:
        index = self.index_for(target)
        total = index.ntotal
        found: list[list[tuple[int, float]] | None] = [None] * len(queries)
        pending = np.arange(len(queries))
        depth = min(total, k if all(e is None for e in exclude) else 4 * k + 16)
        while len(pending) and depth > 0:
            scores, rows = index.search(queries[pending], depth)
            still = []
            for position, query in enumerate(pending):
                valid = rows[position] >= 0  # approximate indexes may return fewer than `depth`
                row_ids, row_scores = rows[position][valid], scores[position][valid]
                keep = ~self._excluded(target, row_ids, exclude[query])
                picked = list(zip(row_ids[keep][:k].tolist(), row_scores[keep][:k].tolist()))
                if len(picked) < k and depth < total:
                    still.append(query)
                found[query] = picked
            pending = np.array(still, dtype=np.int64)
            depth = min(total, depth * 4)
        return [f or [] for f in found]

    def _hit(self, kind: str, rank: int, target: str, row: int, score: float) -> Hit:
        motion_row = row if target == "motion" else int(self.pair_motion[row])
        caption = self.motion_captions[row] if target == "motion" else self.pair_captions[row]
        return Hit(
            kind=kind,
            rank=rank,
            name=self.motion_names[motion_row],
            motion_id=self.motion_ids[motion_row],
            caption=caption,
            similarity=float(score),
            tokens=self.tokens[motion_row] if self.tokens is not None else None,
        )
