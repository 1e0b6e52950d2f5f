"""Does a generated motion show the right actions? Composition accuracy on the built-in data (issue 15).

The built-in dataset writes down what each motion is made of (`compositions.jsonl`: one key per segment, e.g.
`walk_forward|hand_to_mouth_left|-` = locomotion | arm action and side | torso). A motion's composition is read
back by its nearest training motion (1-NN in a retriever's motion space, `--judge`: better one that did not choose
the samples), and compared with the text's own clip:

- `exact`: the whole key list is right (every segment, in order);
- `segments`: the share of the clip's keys that the motion's keys contain;
- `actions`: the share of the clip's actions (each key's locomotion, arm action with its side and torso action,
  `-` left out) that the motion's keys contain. Rare compositions are rare in the training motions too, so a
  nearest neighbour seldom has the whole key list right even for the real clip; their actions are common.

Rows: the real clips (how well the read-back works), their tokenizer reconstructions, the top-1 text->motion
reference (its own keys, read from the database, and read back from its decoded codes), the model's first sample,
its PL-TMR pick among N, and the best of N by this measure (flatters: it picks by the noisy read-back that
scores it). A second table scores the same read-backs against the top-1 reference's keys: does a sample follow its
reference (copy) where the clip differs from it?
One caption per clip (seeded), no cropping: a measure of content, beside the evaluator's R-precision.

    .venv/bin/python bench/composition_accuracy.py --model MODEL_DIR --data data/builtin --judge runs/judge2/model \
        [--split rare_test] [--samples 8]
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np


def read_compositions(data: Path) -> dict[str, tuple[str, ...]]:
    if not (data / "compositions.jsonl").is_file():
        raise SystemExit(f"'{data}' has no compositions.jsonl: this measure needs the built-in data (`remogpt data synth`).")
    with open(data / "compositions.jsonl") as handle:
        return {row["id"]: tuple(row["keys"]) for row in map(json.loads, handle)}


def actions(keys: tuple[str, ...]) -> set[str]:
    """`walk_forward|wave_right|-` -> {"base walk_forward", "arm wave_right"}, over every segment."""
    return {f"{slot} {value}" for key in keys for slot, value in zip(("base", "arm", "torso"), key.split("|")) if value != "-"}


def scores(predicted: list[tuple], truth: list[tuple]) -> tuple[float, float, float]:
    exact = np.mean([p == t for p, t in zip(predicted, truth)])
    segments = np.mean([np.mean([key in p for key in t]) for p, t in zip(predicted, truth)])
    found = np.mean([len(actions(p) & actions(t)) / max(len(actions(t)), 1) for p, t in zip(predicted, truth)])
    return float(exact), float(segments), float(found)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", type=Path, required=True)
    parser.add_argument("--data", type=Path, required=True)
    parser.add_argument("--judge", type=Path, required=True, help="a retriever directory: whose motion space reads compositions back")
    parser.add_argument("--split", default="test")
    parser.add_argument("--samples", type=int, default=8)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    from remogpt.data.folder import HumanML3DFolder
    from remogpt.pipeline import ReMoGPT
    from remogpt.retrieval.model import PLTMR

    compositions = read_compositions(args.data)
    folder = HumanML3DFolder(args.data)
    train, split = folder.samples("train"), folder.samples(args.split)
    judge = PLTMR.from_pretrained(args.judge)
    library = judge.embed_motions([s.features for s in train])
    library_keys = [compositions[s.name] for s in train]

    def read_back(motions) -> list[tuple]:
        return [library_keys[i] for i in (judge.embed_motions(motions) @ library.T).argmax(1)]

    model = ReMoGPT.from_pretrained(args.model)
    model.sampling.candidates = 1  # the samples are drawn here, the PL-TMR pick made below
    rng = np.random.default_rng(args.seed)
    texts = [s.captions[int(rng.integers(len(s.captions)))].text for s in split]
    truth = [compositions[s.name] for s in split]
    n = args.samples
    generated = model.generate_motions(texts, num_samples=n, seed=args.seed)
    features = [g.features for g in generated]
    cosine = np.einsum("qd,qcd->qc", model.retriever.embed_texts(texts), model.retriever.embed_motions(features).reshape(len(texts), n, -1))
    sample_keys = read_back(features)
    per_text = [sample_keys[i * n : (i + 1) * n] for i in range(len(texts))]
    references = [next((r for r in g.context if r.kind == "text->motion"), None) for g in generated[::n]]

    rows = {
        "real clips": read_back([s.features for s in split]),
        "tokenizer reconstructions": read_back(model.reconstruct([s.features for s in split])),
    }
    if all(references):  # a model prompted with text->motion references (not `none` or `t2t`)
        rows["top-1 reference, its own keys"] = [compositions[r.name] for r in references]
        rows["top-1 reference, decoded and read back"] = read_back(model.decode([r.codes for r in references]))
    rows["first sample"] = [keys[0] for keys in per_text]
    rows[f"PL-TMR pick of {n}"] = [keys[int(b)] for keys, b in zip(per_text, cosine.argmax(1))]
    print(f"model {args.model}, split {args.split} ({len(split)} clips), read back by {args.judge}\n")
    print("| motion | exact keys | segments right | actions right |\n|---|---|---|---|")
    for name, predicted in rows.items():
        print(f"| {name} | " + " | ".join(f"{v:.3f}" for v in scores(predicted, truth)) + " |")
    best = [max(keys, key=lambda k: scores([k], [t])[::-1]) for keys, t in zip(per_text, truth)]
    print(f"| the best of {n} samples (chosen by this measure: flatters) | " + " | ".join(f"{v:.3f}" for v in scores(best, truth)) + " |")
    if not all(references):
        return
    # the same read-back against the reference's own keys instead of the clip's: does a sample follow its reference?
    reference_keys = rows["top-1 reference, its own keys"]
    print("\n| agreement with the top-1 reference's keys (not the clip's) | exact keys | segments right | actions right |\n|---|---|---|---|")
    for name in ("top-1 reference, decoded and read back", "first sample", f"PL-TMR pick of {n}"):
        print(f"| {name} | " + " | ".join(f"{v:.3f}" for v in scores(rows[name], reference_keys)) + " |")
    print("| the real clip | " + " | ".join(f"{v:.3f}" for v in scores(truth, reference_keys)) + " |")


if __name__ == "__main__":
    main()
