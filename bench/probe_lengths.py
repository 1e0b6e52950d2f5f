"""How long are generated motions against what their texts take? (issue 15)

For test texts, the length in motion tokens of the ground-truth clip, of the top-1 text->motion reference and of the
model's motion (one sample each, the model's own decoding otherwise), their correlations, and token statistics
(consecutive repeats, distinct share) and joint-position jerk of each kind.

    .venv/bin/python bench/probe_lengths.py --model DIR --data data/builtin [--split test] [--texts 150] [--model-length]
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np


def token_stats(sequences) -> str:
    lengths = np.array([len(s) for s in sequences])
    repeats = np.mean([np.mean([a == b for a, b in zip(s, s[1:])]) for s in sequences if len(s) > 1])
    distinct = np.mean([len(set(s)) / len(s) for s in sequences])
    return f"length {lengths.mean():.1f} ± {lengths.std():.1f} tokens, repeats {repeats:.3f}, distinct {distinct:.3f}"


def jerk(features) -> float:
    return float(np.mean([np.abs(np.diff(x[:, 4:67], n=3, axis=0)).mean() for x in features]))  # root-relative joints


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", type=Path, required=True)
    parser.add_argument("--data", type=Path, required=True)
    parser.add_argument("--split", default="test")
    parser.add_argument("--texts", type=int, default=150)
    parser.add_argument("--model-length", action="store_true", help="the model ends each motion itself")
    args = parser.parse_args()

    from remogpt.data.folder import HumanML3DFolder
    from remogpt.pipeline import ReMoGPT

    model = ReMoGPT.from_pretrained(args.model)
    model.sampling.candidates, model.sampling.reference_length = 1, not args.model_length
    samples = HumanML3DFolder(args.data).samples(args.split)[: args.texts]
    real = model.motion_tokenizer.encode([s.features for s in samples])
    generated = model.generate_motions([s.captions[0].text for s in samples], seed=0)
    references = [next(list(r.codes) for r in g.context if r.kind == "text->motion") for g in generated]
    lengths = {"real": [len(r) for r in real], "reference": [len(r) for r in references], "model": [len(g.tokens) for g in generated]}
    print(f"{len(samples)} {args.split} texts, model-decided length: {args.model_length}")
    for name, sequences in (("real", real), ("reference", references), ("model", [g.tokens for g in generated])):
        print(f"{name}: {token_stats(sequences)}")
    for name in ("reference", "model"):
        print(f"correlation of {name} length with the real clip's: {np.corrcoef(lengths['real'], lengths[name])[0, 1]:.3f}")
    print(f"joint jerk: real {jerk([s.features for s in samples]):.5f}, reference {jerk(model._decoded(references)):.5f}, "
          f"model {jerk([g.features for g in generated]):.5f}")


if __name__ == "__main__":
    main()
