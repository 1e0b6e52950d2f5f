"""What the model cannot promise about a request, said to the user instead of silently producing something.

Three notices, each one sentence:
- words of a prompt that no caption of the model's database holds (the model has never read them: "cartwheel",
  "salsa"), so the motion cannot follow them;
- a prompt longer than the longest database caption, whose end the model may leave out;
- a best reference that matches the query poorly: its retriever similarity is below the threshold calibrated on
  held-out queries (`calibrate_match_thresholds`, stored in remogpt.json as `match_thresholds`), so the context
  the model copies from describes something else.

The database captions stand for what the model was trained on: `train all` builds the database from the training
split the language model learns from.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Iterable, Sequence

import numpy as np

MATCH_QUANTILE = 0.05  # a best match weaker than 95 % of held-out queries' best matches is called poor
_WORD = re.compile(r"[a-z]+(?:'[a-z]+)?")


def words_of(text: str) -> list[str]:
    return _WORD.findall(text.lower())


@dataclass(frozen=True)
class PromptScope:
    """The words the model has read and the longest caption it has seen (in words)."""

    words: frozenset[str]
    longest: int

    @classmethod
    def from_captions(cls, captions: Iterable[str]) -> "PromptScope":
        words, longest = set(), 0
        for caption in captions:
            found = words_of(caption)
            words.update(found)
            longest = max(longest, len(found))
        return cls(frozenset(words), longest)

    def unknown_words(self, text: str) -> list[str]:
        return list(dict.fromkeys(w for w in words_of(text) if w not in self.words))

    def notices(self, text: str) -> list[str]:
        said = []
        unknown = self.unknown_words(text)
        if unknown:
            listed = ", ".join(f"'{w}'" for w in unknown[:8]) + (" ..." if len(unknown) > 8 else "")
            said.append(f"the model does not know {listed}; the motion cannot follow {'it' if len(unknown) == 1 else 'them'}.")
        count = len(words_of(text))
        if self.longest and count > self.longest:
            said.append(
                f"the prompt has {count} words, more than any caption the model was trained on ({self.longest}); "
                "what it describes past that may be left out (one clip is at most "
                "a few seconds: describe one action, or generate the steps separately)."
            )
        return said


def weak_match_notice(references: Sequence, thresholds: dict[str, float]) -> str | None:
    """One sentence when the best reference of a kind scores below that kind's calibrated threshold."""
    best: dict[str, object] = {}
    for ref in references:
        if ref.kind in thresholds and (ref.kind not in best or ref.similarity > best[ref.kind].similarity):
            best[ref.kind] = ref
    weak = [ref for kind, ref in best.items() if ref.similarity < thresholds[kind]]
    if not weak:
        return None
    ref = weak[0]
    return (
        f"the closest match in the model's database ({ref.kind}, similarity {ref.similarity:.3f}, below the usual "
        f"{thresholds[ref.kind]:.3f}) is '{ref.caption}'; the result may not be what was asked for."
    )


def calibrate_match_thresholds(context, texts: Sequence[str], motions: Sequence[np.ndarray], quantile: float = MATCH_QUANTILE) -> dict[str, float]:
    """Per similarity kind, the `quantile` of the best reference's similarity over held-out text and motion
    queries (language/context.py ContextRetriever): in-distribution queries fall below it that often."""
    best: dict[str, list[float]] = {}
    for references in [*context.for_texts(list(texts)), *context.for_motions(list(motions))]:
        top: dict[str, float] = {}
        for ref in references:
            top[ref.kind] = max(top.get(ref.kind, -np.inf), ref.similarity)
        for kind, value in top.items():
            best.setdefault(kind, []).append(value)
    return {kind: round(float(np.quantile(values, quantile)), 4) for kind, values in best.items()}


def held_out_queries(data, split: str = "val") -> tuple[list[str], list[np.ndarray]]:
    """A dataset split's captions and motions (raw features): the queries thresholds are calibrated on."""
    from .data.folder import HumanML3DFolder

    samples = HumanML3DFolder(data).samples(split)
    return [c.text for s in samples for c in s.captions], [s.features for s in samples]
