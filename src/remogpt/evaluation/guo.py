"""The text-motion evaluator of Guo et al. (CVPR 2022, "text_mot_match"), with the official parameter names.

Three encoders map a caption and a motion into one 512-d space where matching pairs are close in Euclidean distance:

- movement encoder: two strided 1D convolutions over the normalised features without foot contacts (T -> T/4),
- motion encoder: bidirectional GRU over those movement codes -> co-embedding,
- text encoder: word vector + POS embedding -> bidirectional GRU -> co-embedding.

Attribute names follow the reference modules (`main.0`, `main.3`, `out_net`; `input_emb`, `pos_emb`, `gru`,
`output_net.0/1/3`, `hidden`), so the official `finest.tar` loads with strict checking. Unlike the reference wrapper,
every embedding is returned in input order, and motion lengths are divided by the unit length exactly once.

`TextMotionEvaluator` bundles the encoders with the normalisation statistics and the word table, and is saved as a
remogpt model directory; `load_official_evaluator` builds it from the files users of the reference code have.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Sequence

import numpy as np
import torch
from torch import nn
from torch.nn.utils.rnn import pack_padded_sequence

from ..errors import UserInputError
from ..motion.stats import normalize, renormalize
from ..pretrained import CONFIG_NAME, WEIGHTS_NAME, Pretrained
from .word_vectorizer import (
    GLOVE_INDEX,
    GLOVE_VECTORS,
    GLOVE_WORDS,
    MAX_TEXT_LEN,
    POS_CLASSES,
    WordVectorizer,
)

WORDS_NAME = "words.json"
OFFICIAL_KEYS = ("text_encoder", "motion_encoder", "movement_encoder")


def _init_weight(module: nn.Module) -> None:
    """Xavier-normal weights and zero biases, as the reference initialises its layers."""
    if isinstance(module, (nn.Conv1d, nn.Linear)):
        nn.init.xavier_normal_(module.weight)
        if module.bias is not None:
            nn.init.zeros_(module.bias)


class MovementConvEncoder(nn.Module):
    """(B, T, D-4) normalised features -> (B, T/4, output_size) movement codes."""

    def __init__(self, input_size: int, hidden_size: int, output_size: int):
        super().__init__()
        self.main = nn.Sequential(
            nn.Conv1d(input_size, hidden_size, 4, 2, 1),
            nn.Dropout(0.2),
            nn.LeakyReLU(0.2),
            nn.Conv1d(hidden_size, output_size, 4, 2, 1),
            nn.Dropout(0.2),
            nn.LeakyReLU(0.2),
        )
        self.out_net = nn.Linear(output_size, output_size)
        self.apply(_init_weight)

    def forward(self, inputs: torch.Tensor) -> torch.Tensor:
        return self.out_net(self.main(inputs.transpose(1, 2)).transpose(1, 2))


class _BiGRUHead(nn.Module):
    """Shared shape of the motion and text encoders: input_emb -> BiGRU (learned h0) -> output_net."""

    def __init__(self, input_size: int, hidden_size: int, output_size: int):
        super().__init__()
        self.input_emb = nn.Linear(input_size, hidden_size)
        self.gru = nn.GRU(hidden_size, hidden_size, batch_first=True, bidirectional=True)
        self.output_net = nn.Sequential(
            nn.Linear(hidden_size * 2, hidden_size),
            nn.LayerNorm(hidden_size),
            nn.LeakyReLU(0.2),
            nn.Linear(hidden_size, output_size),
        )
        self.input_emb.apply(_init_weight)
        self.output_net.apply(_init_weight)
        self.hidden = nn.Parameter(torch.randn(2, 1, hidden_size))

    def encode(self, inputs: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        """Final forward and backward states of the packed sequence; the output rows keep the input order."""
        embedded = self.input_emb(inputs)
        # enforce_sorted=False sorts by length for packing and restores the input order of the final states.
        packed = pack_padded_sequence(embedded, lengths.cpu(), batch_first=True, enforce_sorted=False)
        _, last = self.gru(packed, self.hidden.expand(-1, inputs.shape[0], -1).contiguous())
        return self.output_net(torch.cat([last[0], last[1]], dim=-1))


class MotionEncoderBiGRUCo(_BiGRUHead):
    """(B, T/4, movement latent) codes and their lengths in units -> (B, output_size)."""

    def forward(self, movements: torch.Tensor, unit_lengths: torch.Tensor) -> torch.Tensor:
        return self.encode(movements, unit_lengths)


class TextEncoderBiGRUCo(_BiGRUHead):
    """Word vectors (B, L, word) + POS one-hots (B, L, 15) and sentence lengths -> (B, output_size)."""

    def __init__(self, word_size: int, pos_size: int, hidden_size: int, output_size: int):
        super().__init__(word_size, hidden_size, output_size)
        self.pos_emb = nn.Linear(pos_size, word_size)
        self.pos_emb.apply(_init_weight)

    def forward(self, word_embs: torch.Tensor, pos_onehot: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        return self.encode(word_embs + self.pos_emb(pos_onehot), lengths)


@dataclass
class EvaluatorConfig:
    """Sizes of the three encoders (defaults: the official HumanML3D evaluator) and how the word table was made."""

    dim_pose: int = 263
    dim_word: int = 300
    dim_pos_ohot: int = len(POS_CLASSES)
    dim_movement_enc_hidden: int = 512
    dim_movement_latent: int = 512
    dim_text_hidden: int = 512
    dim_motion_hidden: int = 1024
    dim_coemb_hidden: int = 512
    unit_length: int = 4
    max_text_len: int = MAX_TEXT_LEN
    max_motion_length: int = 196
    vocab_size: int = 4199
    word_vectors: str = "glove"  # "glove" (official) or the substitute's name, see evaluation/words.py


class TextMotionEvaluator(Pretrained, nn.Module):
    """The three encoders plus the evaluator's own feature statistics and word table.

    Motions go in as RAW features (T, D) (what models output after de-normalising with their own statistics); the
    evaluator normalises them with its statistics, which re-normalises from model to evaluator statistics in one step.
    """

    model_type = "guo-evaluator"
    config_class = EvaluatorConfig

    def __init__(self, config: EvaluatorConfig, words: Sequence[str] | None = None):
        super().__init__()
        self.config = config
        self.movement_encoder = MovementConvEncoder(
            config.dim_pose - 4, config.dim_movement_enc_hidden, config.dim_movement_latent
        )
        self.motion_encoder = MotionEncoderBiGRUCo(
            config.dim_movement_latent, config.dim_motion_hidden, config.dim_coemb_hidden
        )
        self.text_encoder = TextEncoderBiGRUCo(
            config.dim_word, config.dim_pos_ohot, config.dim_text_hidden, config.dim_coemb_hidden
        )
        self.register_buffer("mean", torch.zeros(config.dim_pose))
        self.register_buffer("std", torch.ones(config.dim_pose))
        self.register_buffer("word_vectors", torch.zeros(config.vocab_size, config.dim_word))
        self.words: list[str] = list(words) if words is not None else []
        self.identity: dict[str, Any] = {"kind": "remogpt", "model_type": self.model_type}
        self._vectorizer: WordVectorizer | None = None

    # ------------------------------------------------------------------------------------------- persistence
    def save_extra_files(self, directory: Path) -> None:
        from ..io import save_json

        save_json(directory / WORDS_NAME, self.words)

    @classmethod
    def from_pretrained(cls, directory: str | os.PathLike, map_location: Any = "cpu") -> "TextMotionEvaluator":
        model = super().from_pretrained(directory, map_location=map_location)
        words_path = Path(directory) / WORDS_NAME
        if not words_path.is_file():
            raise UserInputError(f"evaluator directory '{directory}' has no {WORDS_NAME} (the word vocabulary).")
        words = json.loads(words_path.read_text())
        if not isinstance(words, list) or len(words) != model.config.vocab_size:
            raise UserInputError(
                f"'{words_path}' holds {len(words) if isinstance(words, list) else 'no'} words, "
                f"expected a list of {model.config.vocab_size}."
            )
        model.words = [str(w) for w in words]
        model.identity = {
            "kind": "remogpt",
            "path": str(Path(directory).resolve()),
            "sha256": _sha256(Path(directory) / WEIGHTS_NAME),
            "word_vectors": model.config.word_vectors,
        }
        return model

    # ------------------------------------------------------------------------------------------- pieces
    @property
    def device(self) -> torch.device:
        return self.mean.device

    @property
    def vectorizer(self) -> WordVectorizer:
        if self._vectorizer is None:
            self._vectorizer = WordVectorizer(self.words, self.word_vectors.detach().cpu().numpy())
        return self._vectorizer

    def set_statistics(self, mean: np.ndarray, std: np.ndarray) -> None:
        for name, array in (("mean", mean), ("std", std)):
            array = np.asarray(array, dtype=np.float32)
            if array.shape != (self.config.dim_pose,):
                raise UserInputError(f"evaluator {name} has shape {array.shape}, expected ({self.config.dim_pose},).")
            getattr(self, name).copy_(torch.from_numpy(array))

    def set_word_table(self, vectorizer: WordVectorizer) -> None:
        if vectorizer.vectors.shape != tuple(self.word_vectors.shape):
            raise UserInputError(
                f"word table has shape {vectorizer.vectors.shape}, expected {tuple(self.word_vectors.shape)}."
            )
        self.word_vectors.copy_(torch.from_numpy(vectorizer.vectors))
        self.words = list(vectorizer.words)
        self._vectorizer = None

    # ------------------------------------------------------------------------------------------- tensors in, tensors out
    def text_embedding(self, word_embs: torch.Tensor, pos_onehot: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        return self.text_encoder(word_embs, pos_onehot, lengths)

    def motion_embedding(self, motions: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        """Normalised, zero-padded (B, T, D) motions and their lengths in frames -> (B, coemb)."""
        movements = self.movement_encoder(motions[..., :-4])
        unit_lengths = torch.div(lengths, self.config.unit_length, rounding_mode="floor")  # the one division
        return self.motion_encoder(movements, unit_lengths)

    # ------------------------------------------------------------------------------------------- numpy in, numpy out
    def pad_motions(
        self, motions: Sequence[np.ndarray], statistics: tuple[np.ndarray, np.ndarray] | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """Normalise (T, D) features with the evaluator's statistics, cut them to max_motion_length, zero-pad them.

        `statistics` = (mean, std) the motions are already normalised with (a model's), or None for raw features;
        normalised motions are re-normalised from the model's statistics to the evaluator's.

        The padded length is at least 4 * (T // 4) + 2 frames for every motion, or max_motion_length: the two strided
        convolutions then see exactly what the reference sees with its padding to 196, so the result does not
        depend on which other motions share the batch.
        """
        limit, unit = self.config.max_motion_length, self.config.unit_length
        lengths = np.array([min(len(m), limit) for m in motions], dtype=np.int64)
        if len(motions) and lengths.min() < unit:
            raise UserInputError(f"a motion has {lengths.min()} frames, the evaluator needs at least {unit}.")
        width = min(limit, int(unit * (lengths.max() // unit) + unit)) if len(motions) else 0
        mean = self.mean.cpu().numpy()
        std = self.std.cpu().numpy()
        batch = np.zeros((len(motions), width, self.config.dim_pose), dtype=np.float32)
        for i, motion in enumerate(motions):
            if motion.ndim != 2 or motion.shape[1] != self.config.dim_pose:
                raise UserInputError(f"motion {i} has shape {motion.shape}, expected (T, {self.config.dim_pose}).")
            window = motion[: lengths[i]]
            if statistics is None:
                batch[i, : lengths[i]] = normalize(window, mean, std)
            else:
                batch[i, : lengths[i]] = renormalize(window, statistics[0], statistics[1], mean, std)
        return batch, lengths

    @torch.no_grad()
    def embed_motions(
        self,
        motions: Sequence[np.ndarray],
        batch_size: int = 256,
        statistics: tuple[np.ndarray, np.ndarray] | None = None,
    ) -> np.ndarray:
        """Features (T, D) -> (N, coemb) embeddings in input order, batched by similar length.

        Raw features by default; with `statistics` = a model's (mean, std), features normalised with them.
        """
        self.eval()
        order = np.argsort([-len(m) for m in motions], kind="stable")
        out = np.zeros((len(motions), self.config.dim_coemb_hidden), dtype=np.float32)
        for start in range(0, len(order), batch_size):
            chunk = order[start : start + batch_size]
            batch, lengths = self.pad_motions([motions[i] for i in chunk], statistics)
            embedded = self.motion_embedding(
                torch.from_numpy(batch).to(self.device), torch.from_numpy(lengths).to(self.device)
            )
            out[chunk] = embedded.float().cpu().numpy()
        return out

    @torch.no_grad()
    def embed_texts(self, token_lists: Sequence[Sequence[str]], batch_size: int = 1024) -> np.ndarray:
        """HumanML3D token lists ("word/POS") -> (N, coemb) embeddings in input order."""
        self.eval()
        out = np.zeros((len(token_lists), self.config.dim_coemb_hidden), dtype=np.float32)
        for start in range(0, len(token_lists), batch_size):
            words, pos, lengths = self.vectorizer.encode(
                token_lists[start : start + batch_size], self.config.max_text_len
            )
            embedded = self.text_embedding(
                torch.from_numpy(words).to(self.device),
                torch.from_numpy(pos).to(self.device),
                torch.from_numpy(lengths).to(self.device),
            )
            out[start : start + len(words)] = embedded.float().cpu().numpy()
        return out


# --------------------------------------------------------------------------------------------- official files
def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _first_existing(directory: Path, candidates: Sequence[str]) -> Path | None:
    return next((directory / c for c in candidates if (directory / c).is_file()), None)


# Where the reference code's files sit relative to a folder the user points at (each list tried in order).
OFFICIAL_CHECKPOINT = ("finest.tar", "model/finest.tar", "text_mot_match/model/finest.tar")
OFFICIAL_GLOVE_DIRS = (".", "glove")
OFFICIAL_MEAN = ("mean.npy", "t2m_mean.npy", "kit_mean.npy", "meta/mean.npy")
OFFICIAL_STD = ("std.npy", "t2m_std.npy", "kit_std.npy", "meta/std.npy")


def config_from_official_state(state: dict[str, dict[str, torch.Tensor]], vocab_size: int, dim_word: int) -> EvaluatorConfig:
    """Read the encoder sizes off the tensors of a finest.tar (HumanML3D 263-d or KIT 251-d)."""
    try:
        movement, motion, text = (state[k] for k in ("movement_encoder", "motion_encoder", "text_encoder"))
        return EvaluatorConfig(
            dim_pose=int(movement["main.0.weight"].shape[1]) + 4,
            dim_word=int(text["pos_emb.weight"].shape[0]),
            dim_pos_ohot=int(text["pos_emb.weight"].shape[1]),
            dim_movement_enc_hidden=int(movement["main.0.weight"].shape[0]),
            dim_movement_latent=int(movement["out_net.weight"].shape[0]),
            dim_text_hidden=int(text["input_emb.weight"].shape[0]),
            dim_motion_hidden=int(motion["input_emb.weight"].shape[0]),
            dim_coemb_hidden=int(motion["output_net.3.weight"].shape[0]),
            vocab_size=vocab_size,
            word_vectors="glove",
        )
    except (KeyError, AttributeError, IndexError, TypeError) as error:
        raise UserInputError(f"the evaluator checkpoint lacks the tensor {error} of the official layout.") from None


def load_official_evaluator(
    checkpoint: str | os.PathLike,
    glove_dir: str | os.PathLike,
    mean: np.ndarray,
    std: np.ndarray,
    map_location: Any = "cpu",
) -> TextMotionEvaluator:
    """Build the evaluator from the reference files: finest.tar, the GloVe vocabulary and the evaluator statistics.

    The checkpoint is read with `torch.load(weights_only=True)` and every encoder is loaded with strict=True, so a
    file in another layout fails with the names of the missing or unexpected tensors.
    """
    checkpoint = Path(checkpoint)
    if not checkpoint.is_file():
        raise UserInputError(f"evaluator checkpoint '{checkpoint}' does not exist.")
    try:
        state = torch.load(checkpoint, map_location="cpu", weights_only=True)
    except Exception as error:  # torch raises several types for corrupt or pickled-object files
        raise UserInputError(f"evaluator checkpoint '{checkpoint}' cannot be read safely ({error}).") from None
    if not isinstance(state, dict) or not all(k in state for k in OFFICIAL_KEYS):
        found = sorted(state) if isinstance(state, dict) else type(state).__name__
        raise UserInputError(
            f"evaluator checkpoint '{checkpoint}' has keys {found}, expected {', '.join(OFFICIAL_KEYS)}."
        )
    vectorizer = WordVectorizer.from_glove_dir(glove_dir)
    config = config_from_official_state(state, vocab_size=len(vectorizer.words), dim_word=vectorizer.dim)
    if vectorizer.dim != config.dim_word:
        raise UserInputError(f"GloVe vectors in '{glove_dir}' are {vectorizer.dim}-d, the checkpoint expects {config.dim_word}.")
    model = TextMotionEvaluator(config, vectorizer.words)
    for key in OFFICIAL_KEYS:
        try:
            getattr(model, key).load_state_dict(state[key], strict=True)
        except RuntimeError as error:
            first_line = str(error).strip().splitlines()[0]
            raise UserInputError(f"evaluator checkpoint '{checkpoint}': {key} does not match ({first_line}).") from None
    model.set_word_table(vectorizer)
    model.set_statistics(mean, std)
    model.identity = {
        "kind": "official",
        "path": str(checkpoint.resolve()),
        "sha256": _sha256(checkpoint),
        "epoch": int(state["epoch"]) if "epoch" in state else None,
        "word_vectors": "glove",
    }
    return model.to(map_location).eval()


def load_evaluator(directory: str | os.PathLike, map_location: Any = "cpu") -> TextMotionEvaluator:
    """An evaluator folder: a remogpt evaluator (config.json + model.safetensors + words.json) or the official files.

    Official layout, relative to the folder: the checkpoint at one of OFFICIAL_CHECKPOINT, the three GloVe files
    (our_vab_data.npy, our_vab_words.pkl, our_vab_idx.pkl) in the folder or glove/, and the evaluator statistics at
    one of OFFICIAL_MEAN / OFFICIAL_STD (for HumanML3D: t2m_mean.npy / t2m_std.npy).
    """
    from ..io import load_npy

    directory = Path(directory)
    if not directory.is_dir():
        raise UserInputError(f"evaluator folder '{directory}' does not exist.")
    if (directory / CONFIG_NAME).is_file():
        return TextMotionEvaluator.from_pretrained(directory, map_location=map_location).to(map_location)
    checkpoint = _first_existing(directory, OFFICIAL_CHECKPOINT)
    glove = next((directory / d for d in OFFICIAL_GLOVE_DIRS if (directory / d / GLOVE_VECTORS).is_file()), None)
    mean_path = _first_existing(directory, OFFICIAL_MEAN)
    std_path = _first_existing(directory, OFFICIAL_STD)
    if checkpoint is None or glove is None or mean_path is None or std_path is None:
        missing = [
            name
            for name, found in (
                ("finest.tar", checkpoint),
                (f"{GLOVE_VECTORS}/{GLOVE_WORDS}/{GLOVE_INDEX}", glove),
                ("mean.npy (or t2m_mean.npy)", mean_path),
                ("std.npy (or t2m_std.npy)", std_path),
            )
            if found is None
        ]
        raise UserInputError(
            f"evaluator folder '{directory}' is neither a remogpt evaluator (config.json) nor the official files "
            f"(missing {', '.join(missing)})."
        )
    mean = load_npy(mean_path, name="evaluator mean")
    std = load_npy(std_path, name="evaluator std")
    return load_official_evaluator(checkpoint, glove, mean, std, map_location=map_location)
