"""The merged vocabulary of the motion-language model: text tokens + motion tokens, with conversion both ways.

Text tokens come from a tokenizer trained with `tokenizers` on the training captions (models built from scratch) or
from a local pretrained T5 directory (e.g. flan-t5-base). The motion tokens `<motion_id_0>`..`<motion_id_{K-1}>`,
`<som>` (start of motion), `<eom>` (end of motion) and `<motion_mask>` are added as special tokens, so they are
never split and a motion span in a prompt is written as the string `<som><motion_id_3><motion_id_17>...<eom>`.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Container, Iterable, Sequence

from ..errors import UserInputError

from .prompts import END_OF_MOTION, MOTION_MASK, START_OF_MOTION, TEMPLATES, motion_span, motion_token

PAD, EOS, UNK = "<pad>", "</s>", "<unk>"
TAIL_MARGIN = 0.01  # nats: the made-up scores of the unigram trainer's kept pieces span ~0.005 (train_text_tokenizer)


def train_text_tokenizer(captions: Iterable[str], vocab_size: int = 2000):
    """A T5-style unigram tokenizer (Metaspace pre-tokenizer, NFKC); pad=0, eos=1, unk=2.

    Trained on the captions plus every instruction template and the prompt scaffolding, with all printable ASCII
    characters in the alphabet, so no prompt or caption character becomes <unk>.
    """
    import string

    from tokenizers import Tokenizer, decoders, models, normalizers, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast


    scaffolding = ["### Input:", "### Context:", "### Output:", "Text: Motion:"]
    templates = [t.replace("{", "").replace("}", "") for pool in TEMPLATES.values() for t in pool]
    corpus = list(captions) + templates * 5 + scaffolding * 20

    tokenizer = Tokenizer(models.Unigram())
    tokenizer.normalizer = normalizers.NFKC()
    tokenizer.pre_tokenizer = pre_tokenizers.Metaspace()
    tokenizer.decoder = decoders.Metaspace()
    trainer = trainers.UnigramTrainer(
        vocab_size=vocab_size,
        special_tokens=[PAD, EOS, UNK],
        unk_token=UNK,
        initial_alphabet=list(string.printable.strip()) + ["\n"],
        show_progress=False,
    )
    tokenizer.train_from_iterator(corpus, trainer=trainer)
    # The trainer finds the same pieces every time, but its scores differ in the last bits from run to run (parallel
    # sums) and so does the order of near-equal pieces: round the scores and number the pieces by (score, piece),
    # so one corpus always gives one vocabulary (the same ids, the same tokenization).
    import json

    pieces = [(piece, round(score, 8)) for piece, score in json.loads(tokenizer.to_str())["model"]["vocab"]]
    special, rest = pieces[:3], pieces[3:]
    # pieces the trainer had to keep (alphabet characters, rare required pieces) get made-up scores 1e-4 apart below
    # the rest, handed out in arbitrary order: give every piece within TAIL_MARGIN of the lowest score that score
    lowest = min(score for _, score in rest)
    rest = [(piece, lowest if score < lowest + TAIL_MARGIN else score) for piece, score in rest]
    rest.sort(key=lambda piece: (-piece[1], piece[0]))
    tokenizer.model = models.Unigram(special + rest, unk_id=2, byte_fallback=False)
    from tokenizers.processors import TemplateProcessing

    tokenizer.post_processor = TemplateProcessing(single=f"$A {EOS}", special_tokens=[(EOS, tokenizer.token_to_id(EOS))])
    return PreTrainedTokenizerFast(tokenizer_object=tokenizer, pad_token=PAD, eos_token=EOS, unk_token=UNK)


@dataclass
class MotionVocabulary:
    """A Hugging Face text tokenizer extended with `codebook_size` motion tokens and the three motion markers."""

    tokenizer: object  # transformers.PreTrainedTokenizerFast
    codebook_size: int

    @classmethod
    def build(cls, text_tokenizer, codebook_size: int) -> "MotionVocabulary":
        """Add the motion tokens to a text tokenizer (no-op for tokens it already has)."""
        new = [motion_token(i) for i in range(codebook_size)] + [START_OF_MOTION, END_OF_MOTION, MOTION_MASK]
        text_tokenizer.add_tokens(new, special_tokens=True)
        return cls(text_tokenizer, codebook_size)

    @classmethod
    def load(cls, directory: str | os.PathLike, codebook_size: int) -> "MotionVocabulary":
        from transformers import AutoTokenizer

        directory = Path(directory)
        if not directory.is_dir():
            raise UserInputError(f"tokenizer folder '{directory}' does not exist.")
        try:
            tokenizer = AutoTokenizer.from_pretrained(str(directory))
        except Exception as error:  # noqa: BLE001 - tokenizers/transformers raise many types for a damaged file
            first = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
            raise UserInputError(f"text tokenizer '{directory}' cannot be read ({first}).") from None
        return cls.build(tokenizer, codebook_size)

    def save(self, directory: str | os.PathLike) -> None:
        self.tokenizer.save_pretrained(str(directory))

    def __post_init__(self) -> None:
        self.first_motion_id = self.tokenizer.convert_tokens_to_ids(motion_token(0))
        ids = self.tokenizer.convert_tokens_to_ids([motion_token(self.codebook_size - 1), START_OF_MOTION, END_OF_MOTION, MOTION_MASK])
        last, self.start_id, self.end_id, self.mask_id = ids
        if last - self.first_motion_id != self.codebook_size - 1:
            raise UserInputError("the tokenizer's motion tokens are not contiguous; rebuild the vocabulary.")

    def __len__(self) -> int:
        return len(self.tokenizer)

    @property
    def pad_id(self) -> int:
        return self.tokenizer.pad_token_id

    @property
    def eos_id(self) -> int:
        return self.tokenizer.eos_token_id

    def motion_string(self, codes: Sequence[int], masked: Container[int] = ()) -> str:
        """Motion codes -> the span written into prompts and targets; positions in `masked` become <motion_mask>."""
        self.check_codes(codes)
        return motion_span(codes, masked)

    def check_codes(self, codes: Sequence[int]) -> None:
        for code in codes:
            if not 0 <= int(code) < self.codebook_size:
                raise UserInputError(f"motion token {code} is outside the codebook of {self.codebook_size} codes.")

    def is_motion_id(self, token_id: int) -> bool:
        return self.first_motion_id <= token_id < self.first_motion_id + self.codebook_size

    def motion_codes(self, token_ids: Sequence[int]) -> list[int]:
        """Motion codes of the first motion span in generated ids, tolerating malformed output.

        Reads from after the first <som> (or from the start if there is none) up to <eom>, </s> or the end; text
        tokens inside the span are skipped. Returns [] when there is no motion token at all.
        """
        ids = [int(i) for i in token_ids]
        start = ids.index(self.start_id) + 1 if self.start_id in ids else 0
        codes = []
        for token_id in ids[start:]:
            if token_id in (self.end_id, self.eos_id):
                break
            if self.is_motion_id(token_id):
                codes.append(token_id - self.first_motion_id)
        return codes

    def text(self, token_ids: Sequence[int]) -> str:
        """Decode generated ids to a caption, dropping motion tokens, markers and special tokens."""
        kept = [int(i) for i in token_ids if not (self.is_motion_id(int(i)) or int(i) in (self.start_id, self.end_id, self.mask_id))]
        return self.tokenizer.decode(kept, skip_special_tokens=True).strip()
