"""How much of a target motion could be copied from its references? Code overlap between training clips and the
references retrieval gives them (the clip itself excluded, as in training).

    .venv/bin/python bench/probe_reference_overlap.py --model DIR --data data/builtin [--clips 300]

Prints, over the first `--clips` training clips (text query: the first caption): the share of the target's codes that
occur in its top-1 reference, in any reference, and in a random other clip (the chance level); and the successor
rate: where the previous target code occurs in the top-1 reference, how often the next target code follows it there.
These are the numbers behind the copy path (language/copy.py).
"""

from __future__ import annotations

import argparse
import random


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", required=True)
    parser.add_argument("--data", required=True)
    parser.add_argument("--clips", type=int, default=300)
    args = parser.parse_args()

    import numpy as np
    from probe_clips import training_clips_with_references  # bench/, beside this script

    model, samples, codes, queries, retrieved = training_clips_with_references(args.model, args.data, args.clips)
    rng = random.Random(0)
    top1, any_ref, chance = [], [], []
    follows = pairs = 0
    for target, refs in zip(codes, retrieved):
        first = list(refs[0].codes)
        everywhere = {c for ref in refs for c in ref.codes}
        other = set(codes[rng.randrange(len(codes))])
        top1.append(np.mean([c in set(first) for c in target]))
        any_ref.append(np.mean([c in everywhere for c in target]))
        chance.append(np.mean([c in other for c in target]))
        successors: dict[int, set[int]] = {}
        for a, b in zip(first[:-1], first[1:]):
            successors.setdefault(a, set()).add(b)
        for a, b in zip(target[:-1], target[1:]):
            if a in successors:
                pairs += 1
                follows += b in successors[a]
    print(f"{len(samples)} training clips, {len(retrieved[0])} references each ({', '.join(r.kind for r in retrieved[0])})")
    print(f"target codes in the top-1 reference: {np.mean(top1):.3f}; in any reference: {np.mean(any_ref):.3f}; "
          f"in a random clip: {np.mean(chance):.3f}")
    print(f"successor rate: {follows / max(pairs, 1):.3f} of {pairs} target steps whose code occurs in the top-1 reference")


if __name__ == "__main__":
    main()
