"""Word vectors and part-of-speech one-hots for the evaluator's text encoder (Guo et al.'s WordVectorizer).

A caption reaches the text encoder as HumanML3D tokens "word/POS" (spaCy universal tags, NOUN/VERB lemmatised).
Each token becomes a word vector (GloVe, 300-d, in the official evaluator) plus a one-hot over 15 classes: nine
universal tags, five "very important" word classes that override the tagger for fixed word lists, and OTHER.
Words outside the vocabulary become `unk` with class OTHER. A sentence is `sos` + at most 20 tokens + `eos`,
padded with `unk` to 22 (Text2MotionDatasetV2).

The vocabulary files of the official evaluator are `our_vab_data.npy` (V, 300) float, `our_vab_words.pkl` (list of
words) and `our_vab_idx.pkl` (word -> row). The pickles hold only lists, dicts and strings; they are read with an
unpickler that refuses every other object, so a tampered file cannot run code.
"""

from __future__ import annotations

import io
import os
import pickle
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

import numpy as np

from ..errors import UserInputError

POS_CLASSES: tuple[str, ...] = (
    "VERB", "NOUN", "DET", "ADP", "NUM", "AUX", "PRON", "ADJ", "ADV",
    "Loc_VIP", "Body_VIP", "Obj_VIP", "Act_VIP", "Desc_VIP", "OTHER",
)  # fmt: skip
POS_INDEX = {name: index for index, name in enumerate(POS_CLASSES)}

# Fixed word lists whose class replaces the tagger's (checked in this order; 'dance' is listed twice upstream).
VIP_WORDS: dict[str, frozenset[str]] = {
    "Loc_VIP": frozenset(
        "left right clockwise counterclockwise anticlockwise forward back backward up down straight curve".split()
    ),
    "Body_VIP": frozenset("arm chin foot feet face hand mouth leg waist eye knee shoulder thigh".split()),
    "Obj_VIP": frozenset("stair dumbbell chair window floor car ball handrail baseball basketball".split()),
    "Act_VIP": frozenset(
        "walk run swing pick bring kick put squat throw hop dance jump turn stumble stop sit lift lower raise wash "
        "stand kneel stroll rub bend balance flap jog shuffle lean rotate spin spread climb".split()
    ),
    "Desc_VIP": frozenset("slowly carefully fast careful slow quickly happy angry sad happily angrily sadly".split()),
}

START, END, UNKNOWN = "sos", "eos", "unk"
MAX_TEXT_LEN = 20  # tokens kept before sos/eos are added

GLOVE_VECTORS = "our_vab_data.npy"
GLOVE_WORDS = "our_vab_words.pkl"
GLOVE_INDEX = "our_vab_idx.pkl"


class _BuiltinsOnly(pickle.Unpickler):
    """Refuses to build any object that is not a plain container or scalar."""

    _ALLOWED = {"list", "dict", "tuple", "set", "frozenset", "str", "int", "float", "bool"}

    def find_class(self, module: str, name: str):
        if module == "builtins" and name in self._ALLOWED:
            return super().find_class(module, name)
        raise pickle.UnpicklingError(f"refusing to load {module}.{name}")


def load_plain_pickle(path: str | os.PathLike, *, name: str):
    """Load a pickle that may only contain lists, dicts, strings and numbers."""
    path = Path(path)
    if not path.is_file():
        raise UserInputError(f"{name} file '{path}' does not exist.")
    try:
        return _BuiltinsOnly(io.BytesIO(path.read_bytes())).load()
    except (pickle.UnpicklingError, EOFError, ValueError, TypeError, AttributeError) as error:
        raise UserInputError(f"{name} file '{path}' is not a plain pickle of words ({error}).") from None


def pos_class(word: str, tag: str) -> str:
    """The class of an in-vocabulary word: a VIP list wins over the tagger; unknown tags are OTHER."""
    for name, words in VIP_WORDS.items():
        if word in words:
            return name
    return tag if tag in POS_INDEX else "OTHER"


def split_token(token: str) -> tuple[str, str]:
    """'walk/VERB' -> ('walk', 'VERB'); a token without a tag gets OTHER."""
    word, slash, tag = token.rpartition("/")
    return (word, tag) if slash else (token, "OTHER")


def sentence_tokens(tokens: Sequence[str], max_text_len: int = MAX_TEXT_LEN) -> tuple[list[str], int]:
    """sos + the first `max_text_len` tokens + eos, padded with unk to max_text_len + 2; returns (tokens, length)."""
    body = list(tokens)[:max_text_len]
    sentence = [f"{START}/OTHER", *body, f"{END}/OTHER"]
    length = len(sentence)
    return sentence + [f"{UNKNOWN}/OTHER"] * (max_text_len + 2 - length), length


@dataclass
class WordVectorizer:
    """word -> vector table plus the POS one-hot rule; `encode` turns token lists into padded arrays."""

    words: list[str]
    vectors: np.ndarray  # (V, dim_word) float32, row i belongs to words[i]

    def __post_init__(self) -> None:
        self.vectors = np.asarray(self.vectors, dtype=np.float32)
        if self.vectors.ndim != 2 or len(self.words) != self.vectors.shape[0]:
            raise UserInputError(
                f"word vectors have shape {self.vectors.shape} for {len(self.words)} words, expected one row per word."
            )
        self.index = {word: row for row, word in enumerate(self.words)}
        for special in (START, END, UNKNOWN):
            if special not in self.index:
                raise UserInputError(f"the word vocabulary lacks the special word '{special}'.")

    @property
    def dim(self) -> int:
        return int(self.vectors.shape[1])

    @classmethod
    def from_glove_dir(cls, directory: str | os.PathLike) -> "WordVectorizer":
        """Read our_vab_data.npy / our_vab_words.pkl / our_vab_idx.pkl (the official evaluator's GloVe subset)."""
        from ..io import load_npy

        directory = Path(directory)
        vectors = load_npy(directory / GLOVE_VECTORS, name="GloVe vectors")
        words = load_plain_pickle(directory / GLOVE_WORDS, name="GloVe words")
        index = load_plain_pickle(directory / GLOVE_INDEX, name="GloVe index")
        return cls.from_vocabulary(words, index, vectors, source=str(directory))

    @classmethod
    def from_vocabulary(cls, words, index, vectors: np.ndarray, *, source: str = "vocabulary") -> "WordVectorizer":
        """Check the word list against the word -> row index and order the vector rows like the list."""
        if not isinstance(words, list) or not all(isinstance(w, str) for w in words):
            raise UserInputError(f"{source}: the word list is not a list of strings.")
        if not isinstance(index, dict) or set(index) != set(words):
            raise UserInputError(f"{source}: the word index does not hold exactly the words of the word list.")
        vectors = np.asarray(vectors)
        if vectors.ndim != 2 or vectors.shape[0] < len(words):
            raise UserInputError(
                f"{source}: word vectors have shape {vectors.shape}, expected at least {len(words)} rows."
            )
        rows = np.array([index[w] for w in words], dtype=np.int64)
        if rows.min() < 0 or rows.max() >= vectors.shape[0]:
            raise UserInputError(f"{source}: the word index points outside the {vectors.shape[0]} vector rows.")
        return cls(list(words), vectors[rows].astype(np.float32))

    def lookup(self, token: str) -> tuple[int, int]:
        """(row of the word vector, POS class index) for one 'word/POS' token, as Guo et al.'s __getitem__."""
        word, tag = split_token(token)
        row = self.index.get(word)
        if row is None:
            return self.index[UNKNOWN], POS_INDEX["OTHER"]
        return row, POS_INDEX[pos_class(word, tag)]

    def encode(
        self, token_lists: Sequence[Sequence[str]], max_text_len: int = MAX_TEXT_LEN
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Word vectors (N, L, dim), POS one-hots (N, L, 15) and sentence lengths (N,), L = max_text_len + 2."""
        count, width = len(token_lists), max_text_len + 2
        rows = np.empty((count, width), dtype=np.int64)
        classes = np.empty((count, width), dtype=np.int64)
        lengths = np.empty(count, dtype=np.int64)
        for i, tokens in enumerate(token_lists):
            sentence, lengths[i] = sentence_tokens(tokens, max_text_len)
            for j, token in enumerate(sentence):
                rows[i, j], classes[i, j] = self.lookup(token)
        onehot = np.zeros((count, width, len(POS_CLASSES)), dtype=np.float32)
        np.put_along_axis(onehot, classes[..., None], 1.0, axis=-1)
        return self.vectors[rows], onehot, lengths
