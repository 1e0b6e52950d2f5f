"""Average the language-model weights of several model directories fine-tuned from one starting model ("model
soup", Wortsman et al. 2022), to measure whether the average writes better motions or captions than its members.

The members must share config.json (same architecture and vocabulary) and should continue the same model (e.g. two
seeds or two task mixes of the text-guidance stage from one pre-guidance LM); weights of unrelated runs do not
average into a working model. The output is a copy of the first member (its tokenizer, retriever, database and
decoding settings) with model.safetensors replaced by the mean, and the members recorded as `training.soup_of` in remogpt.json.

    .venv/bin/python bench/model_soup.py runs/g3k_t2m runs/g3k_t2m_s1 -o runs/soup_seeds
    .venv/bin/python bench/decoding_sweep.py --model runs/soup_seeds --data data/builtin --settings c8x1
"""

from __future__ import annotations

import argparse
import json
import shutil
from pathlib import Path

import torch
from safetensors.torch import load_file, save_file

from remogpt.io import save_json


def average_state(members: list[Path], weights: list[float]) -> dict[str, torch.Tensor]:
    states = [load_file(str(member / "model.safetensors")) for member in members]
    for member, state in zip(members[1:], states[1:]):
        if state.keys() != states[0].keys() or any(state[k].shape != states[0][k].shape for k in state):
            raise SystemExit(f"{member} does not hold the same tensors as {members[0]}")
    total = sum(weights)
    return {
        key: sum(w * state[key].double() for w, state in zip(weights, states)).div(total).to(states[0][key].dtype)
        for key in states[0]
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("members", type=Path, nargs="+", help="Model directories (each with model.safetensors).")
    parser.add_argument("-o", "--out", type=Path, required=True)
    parser.add_argument("--weights", default=None, help="Comma-separated mixing weights (default: equal).")
    args = parser.parse_args()
    if len(args.members) < 2:
        raise SystemExit("a soup needs at least two model directories")
    configs = {(member / "config.json").read_text() for member in args.members}
    if len(configs) != 1:
        raise SystemExit("the members' config.json differ: only models of one architecture can be averaged")
    weights = [float(w) for w in args.weights.split(",")] if args.weights else [1.0] * len(args.members)
    if len(weights) != len(args.members) or min(weights) < 0 or sum(weights) <= 0:
        raise SystemExit("--weights needs one non-negative weight per member, not all zero")
    if args.out.exists():
        raise SystemExit(f"{args.out} exists")
    state = average_state(args.members, weights)
    shutil.copytree(args.members[0], args.out, ignore=shutil.ignore_patterns("stages", "checkpoints"))
    save_file(state, str(args.out / "model.safetensors"), metadata={"format": "pt"})  # transformers checks it
    manifest = json.loads((args.out / "remogpt.json").read_text())
    manifest["training"]["soup_of"] = {str(member): weight for member, weight in zip(args.members, weights)}
    save_json(args.out / "remogpt.json", manifest)
    print(f"averaged {len(args.members)} models into {args.out}")


if __name__ == "__main__":
    main()
