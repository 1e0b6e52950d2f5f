"""Retrieved context for prompts: which similarity types feed each task, and the lookup itself.

Retrieval settings (`--retrieval`), as in the paper's ablation:
- `none`  no context (MotionGPT);
- `t2t`   uni-modal: a text query gets text->text references, a motion query motion->motion;
- `t2m`   cross-modal: a text query gets text->motion references, a motion query motion->text;
- `both`  ReMoGPT: the two lists concatenated (cross-modal first), k each.
All similarities come from the retriever's own embeddings; the query's own clip, its mirror and identical captions are
excluded when asked (always in training; at inference the database never holds the query).
"""

from __future__ import annotations

from typing import Sequence

import numpy as np

from .prompts import Reference
from .vocabulary import MotionVocabulary

RETRIEVAL_MODES = ("none", "t2t", "t2m", "both")


def kinds_for(mode: str, source: str, k: int) -> dict[str, int]:
    """The top-k per similarity type for a query of `source` ('text' or 'motion')."""
    if mode not in RETRIEVAL_MODES:
        raise ValueError(f"retrieval mode must be one of {RETRIEVAL_MODES}, got {mode!r}")
    other = "motion" if source == "text" else "text"
    cross, same = f"{source}->{other}", f"{source}->{source}"
    return {"none": {}, "t2t": {same: k}, "t2m": {cross: k}, "both": {cross: k, same: k}}[mode]


class ContextRetriever:
    """Turns queries into prompt references with a retriever (PL-TMR) and its database."""

    def __init__(self, retriever, database, vocabulary: MotionVocabulary, mode: str = "both", k: int = 1):
        if mode != "none" and database.tokens is None:
            from ..errors import UserInputError

            raise UserInputError(
                "the retrieval database holds no motion tokens; rebuild it with `remogpt index build --tokenizer DIR`."
            )
        self.retriever, self.database, self.vocabulary = retriever, database, vocabulary
        self.mode, self.k = mode, k

    def _references(self, results, source: str) -> list[list[Reference]]:
        order = list(kinds_for(self.mode, source, self.k))
        return [[self._reference(hit) for kind in order for hit in result.get(kind, [])] for result in results]

    def _reference(self, hit) -> Reference:
        self.vocabulary.check_codes(hit.tokens)
        return Reference(hit.caption, tuple(int(c) for c in hit.tokens), hit.kind, float(hit.similarity), hit.motion_id, hit.name)

    def for_texts(self, texts: Sequence[str], exclude: Sequence | None = None, embeddings: np.ndarray | None = None) -> list[list[Reference]]:
        """References for every text; `embeddings`: the texts' retriever embeddings when the caller has them."""
        return [ranked[0] for ranked in self.ranked_for_texts(texts, 1, exclude, embeddings)]

    def ranked_for_texts(self, texts: Sequence[str], spread: int, exclude: Sequence | None = None,
                         embeddings: np.ndarray | None = None) -> list[list[list[Reference]]]:
        """For every text, `spread` alternative reference lists: the first holds the top k hits of each kind, the
        next the following k, and so on (a list the database cannot fill repeats the first)."""
        if self.mode == "none" or not texts:
            return [[[] for _ in range(spread)] for _ in texts]
        embeddings = self.retriever.embed_texts(list(texts)) if embeddings is None else embeddings
        kinds = kinds_for(self.mode, "text", self.k * spread)
        results = self.database.search(embeddings, "text", k=kinds, targets=("motion", "text"), exclude=exclude)
        ranked = []
        for result in results:
            lists = [[self._reference(hit) for kind in kinds for hit in result.get(kind, [])[p * self.k:(p + 1) * self.k]]
                     for p in range(spread)]
            ranked.append([refs if len(refs) == len(lists[0]) else lists[0] for refs in lists])
        return ranked

    def for_motions(self, motions: Sequence[np.ndarray], exclude: Sequence | None = None, embeddings: np.ndarray | None = None) -> list[list[Reference]]:
        if self.mode == "none" or not motions:
            return [[] for _ in motions]
        embeddings = self.retriever.embed_motions(list(motions)) if embeddings is None else embeddings
        results = self.database.search(embeddings, "motion", k=kinds_for(self.mode, "motion", self.k), targets=("motion", "text"), exclude=exclude)
        return self._references(results, "motion")
