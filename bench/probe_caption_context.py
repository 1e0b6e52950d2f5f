"""Where a captioning model's words come from: the query motion, the retrieved context, or both.

For each model directory, captions the test motions (or a subset such as rare_test) three ways and scores them
(BLEU@4, CIDEr-D, lower-cased, 3 references):
- full:          the prompt the model is used with (query motion tokens + its retrieved context);
- query masked:  every query motion token replaced by <motion_mask>, context kept (what the context alone gives);
- no context:    the query alone, Context block left out (what the query alone gives).
Plus a no-LM row that copies the top-1 motion->text retrieved caption. A model that reads both sources scores
higher on `full` than on either probe.

    .venv/bin/python bench/probe_caption_context.py MODEL_DIR [MODEL_DIR ...] --data data/builtin [--split rare_test]
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np


def score(predictions, references) -> dict[str, float]:
    from remogpt.evaluation.captions import score_captions

    scores = score_captions(predictions, references, preprocessing="lower", num_references=3)
    return {"bleu4": round(100 * scores["bleu4"], 1), "cider": round(100 * scores["cider"], 1)}


def copied_captions(database, retriever, motions) -> list[str]:
    """The no-LM baseline: each motion's top-1 motion->text caption from the database."""
    return [hits["motion->text"][0].caption for hits in database.search_motions(motions, retriever, k=1)]


def probe(model_dir: Path, motions, references) -> dict[str, dict[str, float]]:
    from remogpt.language.prompts import build_prompt, first_instruction
    from remogpt.pipeline import ReMoGPT

    model = ReMoGPT.from_pretrained(model_dir)
    vocabulary = model.lm.vocabulary
    tokens = model.motion_tokenizer.encode(motions)
    contexts = model.context.for_motions(motions)
    variants = {
        "full": [(vocabulary.motion_string(t), refs) for t, refs in zip(tokens, contexts)],
        "query masked": [(vocabulary.motion_string(t, set(range(len(t)))), refs) for t, refs in zip(tokens, contexts)],
        "no context": [(vocabulary.motion_string(t), []) for t in tokens],
    }
    results = {}
    for name, pairs in variants.items():
        if name != "full" and model.context.mode == "none":
            continue
        prompts = [build_prompt(first_instruction("m2t", motion=span), refs) for span, refs in pairs]
        ids = model.lm.generate_ids(prompts, motion=False, do_sample=False, num_beams=model.sampling.caption_beams)
        results[name] = score([vocabulary.text(row) for row in ids], references)
    if model.context.mode != "none":
        results["copy top-1 retrieved caption"] = score(copied_captions(model.database, model.retriever, motions), references)
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("models", nargs="+", type=Path)
    parser.add_argument("--data", type=Path, required=True)
    parser.add_argument("--split", default="test", help="test, or a subset file of it such as rare_test")
    parser.add_argument("--json", type=Path, default=None, help="also write the numbers here")
    args = parser.parse_args()

    from remogpt.evaluation.protocol import EvalSplit

    test = EvalSplit.from_folder(args.data, "test")
    mask = test.subset_mask(args.data, args.split) if args.split != "test" else None
    rows = np.arange(len(test)) if mask is None else np.flatnonzero(mask)
    motions, references = [test.motions[i] for i in rows], [test.references(i) for i in rows]
    results = {str(m): probe(m, motions, references) for m in args.models}
    print(f"split {args.split} ({len(rows)} motions); BLEU@4 / CIDEr-D x100, lower-cased, 3 references\n")
    print("| model | prompt | BLEU@4 | CIDEr-D |\n|---|---|---|---|")
    for model, rows_ in results.items():
        for name, values in rows_.items():
            print(f"| {model} | {name} | {values['bleu4']} | {values['cider']} |")
    if args.json:
        args.json.write_text(json.dumps({"split": args.split, "results": results}, indent=2))


if __name__ == "__main__":
    main()
