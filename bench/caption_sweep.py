"""Caption decoding settings side by side on one model: greedy, beam search, beams reranked by the model's retriever.

Every setting captions the same test motions with the same model (the pipeline's own `caption`, so what is measured
is what users get) and is scored the `evaluate m2t` way (BLEU@1/4, ROUGE-L, CIDEr-D x100, 3 references); the
"retrieval only" row copies each motion's top-1 motion->text caption from the model's database (no language model).

    .venv/bin/python bench/caption_sweep.py --model MODEL_DIR --data DATA [--split rare_test] \
        [--settings g,b8,r4,r8,r16] [--preprocess ptb] [--json OUT.json]

Settings: `g` greedy; `bN` beam search of width N, its top beam; `rN` N beams, the one PL-TMR scores closest to the
motion kept (SamplingSettings.caption_candidates = N).
"""

from __future__ import annotations

import argparse
import json
import re
import time
from pathlib import Path

import numpy as np


def parse(setting: str) -> dict:
    match = re.fullmatch(r"g|([br])(\d+)", setting)
    if not match:
        raise SystemExit(f"unknown setting '{setting}': expected g, bN or rN")
    if setting == "g":
        return dict(caption_beams=1, caption_candidates=1)
    width = int(match.group(2))
    return dict(caption_beams=width, caption_candidates=width if match.group(1) == "r" else 1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", type=Path, required=True)
    parser.add_argument("--data", type=Path, required=True)
    parser.add_argument("--split", default="test", help="test, or a subset file of it such as rare_test")
    parser.add_argument("--settings", default="g,b8,r4,r8,r16")
    parser.add_argument("--preprocess", default="ptb", help="as `evaluate m2t --preprocess` (the report's: ptb)")
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args()
    settings = {name: parse(name) for name in args.settings.split(",")}

    from remogpt.evaluation.captions import score_captions
    from remogpt.evaluation.protocol import EvalSplit
    from remogpt.pipeline import ReMoGPT

    test = EvalSplit.from_folder(args.data, "test")
    mask = test.subset_mask(args.data, args.split) if args.split != "test" else None
    rows = np.arange(len(test)) if mask is None else np.flatnonzero(mask)
    motions, references = [test.motions[i] for i in rows], [test.references(i) for i in rows]
    model = ReMoGPT.from_pretrained(args.model)

    def scored(captions: list[str]) -> dict:
        values = score_captions(captions, references, preprocessing=args.preprocess, num_references=3)
        return {k: round(100 * values[k], 1) for k in ("bleu1", "bleu4", "rouge_l", "cider")}

    results = {}
    if model.can_search():
        results["retrieval only (top-1 motion->text caption)"] = scored(model.retrieve_captions(motions)) | {"seconds": None}
    for name, values in settings.items():
        model.sampling.caption_beams, model.sampling.caption_candidates = values["caption_beams"], values["caption_candidates"]
        start = time.perf_counter()
        captions = model.caption(motions)
        results[name] = scored(captions) | {"seconds": round(time.perf_counter() - start, 1)}
        print(f"{name}: {results[name]}", flush=True)
    lines = [f"model {args.model}, split {args.split} ({len(rows)} motions), preprocessing {args.preprocess}, 3 references", "",
             "| captions | BLEU@1 | BLEU@4 | ROUGE-L | CIDEr-D | seconds |", "|---|---|---|---|---|---|"]
    for name, row in results.items():
        seconds = "–" if row["seconds"] is None else row["seconds"]
        lines.append(f"| {name} | {row['bleu1']} | {row['bleu4']} | {row['rouge_l']} | {row['cider']} | {seconds} |")
    print("\n".join(lines))
    if args.json:
        args.json.write_text(json.dumps({"model": str(args.model), "split": args.split, "preprocess": args.preprocess, "results": results}, indent=2))


if __name__ == "__main__":
    main()
