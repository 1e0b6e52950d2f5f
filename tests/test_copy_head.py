"""The copy path (language/copy.py): a distribution over the vocabulary, copies what the prompt holds, learns to
continue a reference where a plain T5 of the same size does not, and survives save/load and every decoding mode."""

from __future__ import annotations

import random

import pytest
import torch

from remogpt.language.copy import MIXTURES
from remogpt.language.model import MotionLanguageModel
from remogpt.language.prompts import Reference, build_prompt, motion_span
from remogpt.language.vocabulary import MotionVocabulary, train_text_tokenizer

CAPTIONS = ["a person walks forward", "someone jumps twice", "the man turns left", "a woman raises both arms"] * 20


def _vocabulary(codebook: int = 32) -> MotionVocabulary:
    return MotionVocabulary.build(train_text_tokenizer(CAPTIONS, vocab_size=200), codebook_size=codebook)


def _copy_model(vocabulary, mixture: str = "gate", seed: int = 0) -> MotionLanguageModel:
    torch.manual_seed(seed)
    model = MotionLanguageModel.from_preset("tiny", vocabulary)
    model.add_copy_head(mixture)
    return model.eval()


def _copy_examples(vocabulary, count: int, rng: random.Random) -> tuple[list[str], list[str]]:
    """Prompts whose reference holds a random code sequence; the target is that sequence: only copying solves it."""
    prompts, targets = [], []
    for _ in range(count):
        codes = tuple(rng.randrange(vocabulary.codebook_size) for _ in range(rng.randint(4, 8)))
        prompts.append(build_prompt("Show me a motion that illustrates a walk", [Reference("a person walks forward", codes)]))
        targets.append(motion_span(codes))
    return prompts, targets


@pytest.mark.parametrize("mixture", MIXTURES)
def test_adding_the_copy_head_keeps_every_trained_weight(tmp_path, mixture):
    vocabulary = _vocabulary()
    torch.manual_seed(0)
    model = MotionLanguageModel.from_preset("tiny", vocabulary)
    before = {k: v.clone() for k, v in model.t5.state_dict().items()}
    model.add_copy_head(mixture)
    after = model.t5.state_dict()
    assert model.config.copy_head and model.config.copy_mixture == mixture
    assert {k for k in after if k not in before} == {k for k in after if k.startswith("copy_head.")} != set()
    assert all(torch.equal(before[k], after[k]) for k in before)
    model.save_pretrained(tmp_path)
    loaded = MotionLanguageModel.from_pretrained(tmp_path).eval()
    assert loaded.t5.copy_head.mixture == mixture
    prompts, targets = _copy_examples(vocabulary, 3, random.Random(0))
    with torch.no_grad():
        assert torch.allclose(loaded.loss(prompts, targets), model.eval().loss(prompts, targets))


@pytest.mark.parametrize("mixture", MIXTURES)
def test_the_mixture_is_a_distribution_and_a_wide_open_copy_path_copies_only_prompt_tokens(mixture):
    vocabulary = _vocabulary()
    model = _copy_model(vocabulary, mixture)
    prompts, targets = _copy_examples(vocabulary, 2, random.Random(1))
    inputs = model.encode_prompts(prompts)
    labels = model.encode_targets(targets)
    decoder_inputs = model.t5._shift_right(labels)
    with torch.no_grad():
        log_probs = model.t5(**inputs, decoder_input_ids=decoder_inputs).logits
        assert torch.allclose(log_probs.exp().sum(-1), torch.ones(log_probs.shape[:2]), atol=1e-4)
        model.t5.copy_head.gate.bias.fill_(200.0)  # always copy (the gate open, or every copy score far ahead)
        copied = model.t5(**inputs, decoder_input_ids=decoder_inputs).logits.exp()
    for row, ids in enumerate(inputs["input_ids"]):
        present = torch.zeros(len(vocabulary), dtype=torch.bool)
        present[ids[inputs["attention_mask"][row].bool()]] = True
        assert torch.allclose(copied[row][:, present].sum(-1), torch.ones(copied.shape[1]), atol=1e-4)


@pytest.mark.parametrize("mixture", MIXTURES)
def test_every_decoding_mode_runs_with_the_copy_head(mixture):
    vocabulary = _vocabulary()
    model = _copy_model(vocabulary, mixture)
    prompts, _ = _copy_examples(vocabulary, 2, random.Random(2))
    sampled = model.generate_ids(prompts, motion=True, num_samples=3, max_new_tokens=8)
    beams = model.generate_ids(prompts, motion=True, do_sample=False, num_beams=2, max_new_tokens=8)
    guided = model.generate_ids(
        prompts, motion=True, guidance_prompts=[build_prompt("Show me a walk")] * 2, guidance_scale=1.0, max_new_tokens=8
    )
    captions = model.generate_ids(prompts, motion=False, max_new_tokens=8)
    assert (len(sampled), len(beams), len(guided), len(captions)) == (6, 2, 2, 2)
    assert all(vocabulary.motion_codes(ids) is not None for ids in sampled + beams + guided)


@pytest.mark.parametrize("mixture", MIXTURES)
def test_the_copy_head_learns_to_continue_a_reference_that_the_plain_model_cannot(mixture):
    """The same tiny T5, the same 150 steps on the same copy task: with the copy path the loss falls far lower."""
    vocabulary = _vocabulary()
    rng = random.Random(3)
    batches = [_copy_examples(vocabulary, 16, rng) for _ in range(150)]
    held_out = _copy_examples(vocabulary, 32, random.Random(4))
    losses = {}
    for copy in (False, True):
        torch.manual_seed(0)
        model = MotionLanguageModel.from_preset("tiny", vocabulary)
        if copy:
            model.add_copy_head(mixture)
        model.train()
        optimizer = torch.optim.AdamW(model.parameters(), lr=3e-3)
        for prompts, targets in batches:
            optimizer.zero_grad()
            model.loss(prompts, targets).backward()
            optimizer.step()
        with torch.no_grad():
            losses[copy] = float(model.eval().loss(*held_out))
    assert losses[True] < 0.5 * losses[False], losses
