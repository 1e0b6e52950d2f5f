"""Does the language model use what its context holds? Teacher-forced loss of training targets prompted three ways.

    .venv/bin/python bench/probe_context_use.py --model DIR --data data/builtin [--clips 48]

For the first `--clips` training clips (text-to-motion, the first caption, the first instruction template):
- "the clip itself": the first reference is the target clip (its last caption, its own codes): the exact answer;
- "retrieved": the references retrieval gives in training (the clip excluded);
- "no context": no Context block.
A model that copies from its context scores far lower with the answer in the prompt than with a neighbour. For a
model with the copy path (language/copy.py) the mean and median share of probability it puts on copying are printed
too (over the target positions). `DIR` is a
model directory (a stage-2 snapshot needs the frozen parts beside it: see bench/results/lm_self_reference.md).
"""

from __future__ import annotations

import argparse


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", required=True)
    parser.add_argument("--data", required=True)
    parser.add_argument("--clips", type=int, default=48)
    args = parser.parse_args()

    import torch

    from remogpt.language.prompts import Reference, build_prompt, first_instruction
    from probe_clips import training_clips_with_references  # bench/, beside this script

    model, samples, codes, queries, retrieved = training_clips_with_references(args.model, args.data, args.clips)
    prompts = {"the clip itself": [], "retrieved": [], "no context": []}
    for sample, query, own, refs in zip(samples, queries, codes, retrieved):
        instruction = first_instruction("t2m", caption=query)
        itself = Reference(sample.captions[-1].text, tuple(own), refs[0].kind if refs else "text->motion")
        prompts["the clip itself"].append(build_prompt(instruction, [itself, *refs[1:]]))
        prompts["retrieved"].append(build_prompt(instruction, refs))
        prompts["no context"].append(build_prompt(instruction))
    targets = [model.lm.vocabulary.motion_string(c) for c in codes]
    model.lm.eval()
    print(f"model {args.model}, {len(samples)} training clips; teacher-forced loss of the target motion (nats per token)\n")
    copies = model.lm.config.copy_head
    print("| reference | loss |" + (" copy share: mean / median |" if copies else "") + "\n|---|---|" + ("---|" if copies else ""))
    mask = model.lm.encode_targets(targets) != -100  # target positions (padding left out)
    with torch.no_grad():
        for name, batch in prompts.items():
            loss = float(model.lm.loss(batch, targets))
            if not copies:
                print(f"| {name} | {loss:.3f} |")
                continue
            share = model.lm.t5.copy_head.last_copy_share[mask]  # mass the model puts on copying from the prompt
            print(f"| {name} | {loss:.3f} | {float(share.mean()):.3f} / {float(share.median()):.3f} |")

if __name__ == "__main__":
    main()
