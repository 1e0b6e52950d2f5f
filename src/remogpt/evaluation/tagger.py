"""Turn free text (a model's caption) into HumanML3D "word/POS" tokens without spaCy.

HumanML3D's tokens come from spaCy (hyphens removed, alphabetic tokens only, NOUN/VERB lemmatised). spaCy and its
English model are not installable offline here, so the tokens of generated captions come from a lexicon learned
from the dataset itself: every caption whose alphabetic words line up one-to-one with its token field teaches
"surface word -> (lemma/POS)", and the most frequent reading wins. Unseen words try a few English suffix rules
("waves" -> "wave") and otherwise stay as they are with tag X (the evaluator maps unknown words to `unk`/OTHER
anyway). On HumanML3D's 44k captions the lexicon covers practically every word a captioning model emits.
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from typing import Iterable, Sequence

_WORD = re.compile(r"[a-z]+(?:'[a-z]+)?")
# Suffix rules for unseen inflections: (suffix, replacement), tried in order.
_SUFFIXES = (("ies", "y"), ("ing", ""), ("ing", "e"), ("ed", ""), ("ed", "e"), ("es", ""), ("s", ""), ("d", ""))


def surface_words(text: str) -> list[str]:
    """Lower-cased alphabetic words in spaCy's split: hyphens joined, clitics ('s, n't) dropped."""
    words = []
    for word in _WORD.findall(text.lower().replace("-", "")):
        if word.endswith("n't"):
            word = word[:-3]
        elif "'" in word:
            word = word.split("'", 1)[0]
        if word:
            words.append(word)
    return words


class CaptionTagger:
    """Surface word -> most frequent "lemma/POS" token, learned from captions with their HumanML3D token fields."""

    def __init__(self, lexicon: dict[str, str]):
        self.lexicon = dict(lexicon)

    @classmethod
    def learn(cls, pairs: Iterable[tuple[str, Sequence[str]]]) -> "CaptionTagger":
        """Learn from (caption text, ["word/POS", ...]) pairs; pairs that do not align word for word are skipped."""
        counts: dict[str, Counter] = defaultdict(Counter)
        for text, tokens in pairs:
            words = surface_words(text)
            if len(words) != len(tokens) or not words:
                continue
            for word, token in zip(words, tokens):
                counts[word][token] += 1
        lexicon = {word: seen.most_common(1)[0][0] for word, seen in counts.items()}
        # A lemma is also a surface form of itself ("walk" when only "walks" was seen), so suffix rules can land on it.
        by_lemma: dict[str, Counter] = defaultdict(Counter)
        for seen in counts.values():
            for token, count in seen.items():
                by_lemma[token.rpartition("/")[0]][token] += count
        for lemma, seen in by_lemma.items():
            lexicon.setdefault(lemma, seen.most_common(1)[0][0])
        return cls(lexicon)

    def tag_word(self, word: str) -> str:
        known = self.lexicon.get(word)
        if known is not None:
            return known
        for suffix, replacement in _SUFFIXES:
            if word.endswith(suffix) and len(word) > len(suffix) + 1:
                base = self.lexicon.get(word[: -len(suffix)] + replacement)
                if base is not None:
                    return base
        return f"{word}/X"

    def __call__(self, text: str) -> list[str]:
        """'A person waves.' -> ['a/DET', 'person/NOUN', 'wave/VERB'] (with a lexicon that has seen these words)."""
        return [self.tag_word(word) for word in surface_words(text)]

    def __len__(self) -> int:
        return len(self.lexicon)
