"""The motion-language model's vocabulary, prompts, decoding constraints and save/load (no trained data needed)."""

from __future__ import annotations

import random

import pytest
import torch

from remogpt.language.data import InstructionDataset, MotionTextItem
from remogpt.language.context import kinds_for
from remogpt.language.model import MotionLanguageModel, MotionOnlyLogits, ReferenceAnchor
from remogpt.language.prompts import TEMPLATES, Reference, build_prompt, fill, placeholders
from remogpt.language.vocabulary import MotionVocabulary, train_text_tokenizer

CAPTIONS = [
    "a person walks forward and waves with the right hand",
    "someone jumps twice",
    "the man turns left, then sits down",
    "a woman raises both arms slowly",
] * 20


@pytest.fixture(scope="module")
def vocabulary() -> MotionVocabulary:
    return MotionVocabulary.build(train_text_tokenizer(CAPTIONS, vocab_size=300), codebook_size=16)


@pytest.fixture(scope="module")
def model(vocabulary) -> MotionLanguageModel:
    torch.manual_seed(0)
    return MotionLanguageModel.from_preset("tiny", vocabulary).eval()


def test_every_template_fills_without_leftover_placeholders():
    values = {"caption": "a person waves", "motion": "<som><motion_id_1><eom>", "seconds": "3.5", "frames": "70",
              "motion_start": "<som><motion_id_2><eom>", "motion_end": "<som><motion_id_3><eom>"}
    for task, pool in TEMPLATES.items():
        assert len(pool) >= 4, task
        for template in pool:
            assert placeholders(template), template  # every template carries its input
            text = fill(template, **{k: values[k] for k in placeholders(template)})
            assert "{" not in text and "}" not in text and "Placeholder" not in text, text


def test_fill_refuses_missing_values():
    with pytest.raises(KeyError):
        fill("Show me {caption}")


def test_prompt_has_the_papers_layout():
    prompt = build_prompt("Show me a motion that illustrates a jump", [Reference("a person jumps", (1,))] * 2)
    assert prompt.splitlines() == [
        "### Input:", "Show me a motion that illustrates a jump", "### Context:",
        "Text: a person jumps Motion: <som><motion_id_1><eom>", "Text: a person jumps Motion: <som><motion_id_1><eom>",
        "### Output:",
    ]
    assert "### Context:" not in build_prompt("Describe it")


def test_vocabulary_round_trips_motion_spans_and_has_no_unknown_characters(vocabulary):
    span = vocabulary.motion_string([0, 7, 15])
    ids = vocabulary.tokenizer(span)["input_ids"]
    assert vocabulary.motion_codes(ids) == [0, 7, 15]
    prompt = build_prompt(TEMPLATES["t2m"][0].format(caption="a person jumps! (x=3) #2"), [Reference("someone waves", (0, 7, 15))])
    tokens = vocabulary.tokenizer.convert_ids_to_tokens(vocabulary.tokenizer(prompt)["input_ids"])
    assert "<unk>" not in tokens
    with pytest.raises(ValueError, match="outside the codebook"):
        vocabulary.motion_string([16])


@pytest.mark.parametrize(
    "pieces,expected",
    [
        (["<som>", 3, 4, "<eom>"], [3, 4]),
        ([3, 4, "</s>"], [3, 4]),  # no start marker
        (["<som>", 3, "word", 4], [3, 4]),  # text inside the span, no end marker
        (["word", "</s>"], []),  # no motion tokens at all
    ],
)
def test_malformed_generated_ids_are_read_without_crashing(vocabulary, pieces, expected):
    tok = vocabulary.tokenizer
    ids = [vocabulary.first_motion_id + p if isinstance(p, int) else tok.convert_tokens_to_ids(p if p != "word" else "▁a") for p in pieces]
    assert vocabulary.motion_codes(ids) == expected


def test_reference_anchor_raises_the_references_code_at_the_position_being_written(vocabulary):
    anchor = ReferenceAnchor(vocabulary, [[5, 7], [3]], weight=2.0)
    som, code = vocabulary.start_id, vocabulary.first_motion_id
    input_ids = torch.tensor([[0, som, code + 5], [0, som, code]])  # row 0 writes its 2nd code, row 1 is past its reference
    out = anchor(input_ids, torch.zeros(2, len(vocabulary)))
    assert out[0, code + 7] == 2.0 and out[0].sum() == 2.0  # the reference's code at position 1, whatever came before
    assert not out[1].any()  # beyond the reference: plain sampling
    unopened = anchor(torch.tensor([[0, 0, 0], [0, som, 0]]), torch.zeros(2, len(vocabulary)))
    assert not unopened[0].any() and unopened[1, code + 3] == 2.0  # nothing before <som>; position 0 right after it


def test_caption_text_drops_motion_tokens(vocabulary):
    ids = vocabulary.tokenizer("someone jumps twice")["input_ids"]
    assert vocabulary.text([vocabulary.start_id, vocabulary.first_motion_id] + ids) == "someone jumps twice"


def test_motion_only_logits_force_a_motion_span(vocabulary, model):
    processor = MotionOnlyLogits(vocabulary, min_codes=3)
    scores = torch.zeros(2, len(vocabulary))
    som, code = vocabulary.start_id, vocabulary.first_motion_id
    input_ids = torch.tensor([[0, som, 0, 0, code], [0, som] + [code] * 3])
    out = processor(input_ids, scores)
    allowed = torch.isfinite(out)
    assert not allowed[:, vocabulary.tokenizer.convert_tokens_to_ids("▁a")].any()
    assert not allowed[0, vocabulary.end_id] and allowed[1, vocabulary.end_id]  # <eom> only after 3 codes
    unopened = torch.isfinite(processor(torch.tensor([[0, code, code, code]]), torch.zeros(1, len(vocabulary))))[0]
    assert unopened[som] and unopened.sum() == 1  # the span opens first: codes before <som> would be dropped
    reopened = processor(torch.tensor([[0, vocabulary.start_id, vocabulary.first_motion_id, 0]]), torch.zeros(1, len(vocabulary)))
    assert not torch.isfinite(reopened[0, vocabulary.start_id])  # a single span
    ids = model.generate_ids(["### Input:\nanything\n### Output:"] * 2, motion=True, num_samples=2, min_motion_tokens=2)
    assert len(ids) == 4
    for row in ids:
        assert all(vocabulary.is_motion_id(i) or i in (vocabulary.start_id, vocabulary.end_id, vocabulary.eos_id) for i in row)
        assert len(vocabulary.motion_codes(row)) >= 2


def test_captions_hold_words_only_and_are_never_empty(vocabulary):
    torch.manual_seed(1)
    lm = MotionLanguageModel.from_preset("tiny", vocabulary).eval()
    with torch.no_grad():  # make the untrained model prefer motion codes and the end token
        lm.t5.shared.weight[vocabulary.first_motion_id :] *= 50
        lm.t5.shared.weight[vocabulary.eos_id] *= 50
    ids = lm.generate_ids(["### Input:\nDescribe <som><motion_id_1><eom>\n### Output:"] * 3, motion=False, do_sample=False, num_beams=2)
    for row in ids:
        assert not any(vocabulary.is_motion_id(i) or i in (vocabulary.start_id, vocabulary.end_id) for i in row)
        assert vocabulary.text(row).strip()


def test_batched_generation_with_padding_matches_single_prompts(model):
    prompts = ["### Input:\nDescribe <som><motion_id_1><eom>\n### Output:", "### Input:\nsomeone jumps twice and then waves with the left hand slowly\n### Output:"]
    batched = model.generate_ids(prompts, motion=False, do_sample=False)
    single = [model.generate_ids([p], motion=False, do_sample=False)[0] for p in prompts]
    assert batched == single  # the attention mask makes padding invisible


def test_save_and_load_keep_weights_and_vocabulary(tmp_path, model):
    model.save_pretrained(tmp_path / "lm")
    loaded = MotionLanguageModel.from_pretrained(tmp_path / "lm")
    assert len(loaded.vocabulary) == len(model.vocabulary)
    prompt = ["### Input:\nsomeone jumps\n### Output:"]
    assert loaded.generate_ids(prompt, motion=False, do_sample=False) == model.generate_ids(prompt, motion=False, do_sample=False)


def test_loss_decreases_when_fitting_one_batch(vocabulary):
    torch.manual_seed(0)
    lm = MotionLanguageModel.from_preset("tiny", vocabulary)
    optimizer = torch.optim.AdamW(lm.parameters(), lr=3e-3)
    prompts, targets = ["### Input:\nShow me someone jumps\n### Output:"] * 4, [vocabulary.motion_string([1, 2, 3])] * 4
    first = lm.loss(prompts, targets).item()
    for _ in range(30):
        optimizer.zero_grad()
        loss = lm.loss(prompts, targets)
        loss.backward()
        optimizer.step()
    assert loss.item() < first * 0.5


@pytest.mark.parametrize("preset", ["tiny", "small"])
def test_untrained_loss_starts_near_uniform(vocabulary, preset):
    # an untied T5 head at its default std 1.0 starts near 40 nats; ours should start at about log(vocabulary size)
    import math

    torch.manual_seed(0)
    lm = MotionLanguageModel.from_preset(preset, vocabulary).eval()
    loss = lm.loss(["### Input:\nShow me someone jumps\n### Output:"], [vocabulary.motion_string([1, 2, 3])]).item()
    assert abs(loss - math.log(len(vocabulary))) < 2.5


def test_retrieval_settings_pick_the_papers_similarity_types():
    assert kinds_for("none", "text", 1) == {}
    assert kinds_for("t2t", "text", 1) == {"text->text": 1}
    assert kinds_for("t2m", "text", 2) == {"text->motion": 2}
    assert kinds_for("both", "text", 1) == {"text->motion": 1, "text->text": 1}
    assert kinds_for("both", "motion", 1) == {"motion->text": 1, "motion->motion": 1}


def test_instruction_dataset_mixes_tasks_and_uses_context(vocabulary):
    ref = Reference("a person waves", (5, 6))
    items = [MotionTextItem(f"{i:06d}", f"{i:06d}", [1, 2, 3, 4, 5, 6, 7, 8], ["someone jumps twice", "a man hops"], [[ref], [ref]], [ref]) for i in range(50)]
    dataset = InstructionDataset(items, vocabulary, fps=20, downsample_factor=4, seed=0)
    examples = [dataset[i] for i in range(len(dataset))]
    assert examples == [dataset[i] for i in range(len(dataset))]  # deterministic per (seed, epoch, index)
    dataset.set_epoch(1)
    assert examples != [dataset[i] for i in range(len(dataset))]  # a new epoch draws new prompts
    prompts = " ".join(p for p, _, _ in examples)
    assert "### Context:" in prompts and "Text: a person waves" in prompts
    targets = [t for _, t, _ in examples]
    assert any(t.startswith("<som>") for t in targets) and any(not t.startswith("<som>") for t in targets)
    for prompt, target, _ in examples:
        assert "{" not in prompt
        if target.startswith("<som>") and "Context" in prompt and "illustrates" in prompt:
            assert target == vocabulary.motion_string(items[0].tokens)


def test_query_masking_hides_part_of_the_caption_query_only(vocabulary):
    """Stage 2's query masking touches the motion-to-text query, never targets, references or other tasks."""
    import random

    codes = [i % 16 for i in range(40)]
    ref = Reference("a person waves", (5, 6))
    item = MotionTextItem("000001", "000001", codes, ["someone jumps twice"], [[ref]], [ref])
    masked = InstructionDataset([item], vocabulary, fps=20, downsample_factor=4, query_mask_rate=0.9, seed=0)
    plain = InstructionDataset([item], vocabulary, fps=20, downsample_factor=4, seed=0)
    hidden = []
    for seed in range(20):
        prompt, target, _ = masked.example(item, "m2t", random.Random(seed))
        assert target == "someone jumps twice" and "Motion: " + vocabulary.motion_string(ref.codes) in prompt
        query = prompt.split("### Context:")[0]
        assert query.count("<motion_id_") + query.count("<motion_mask>") == len(codes)
        hidden.append(query.count("<motion_mask>") / len(codes))
        assert "<motion_mask>" not in plain.example(item, "m2t", random.Random(seed))[0]
        for task in ("t2m", "prediction", "inbetween"):
            prompt, target, _ = masked.example(item, task, random.Random(seed))
            assert "<motion_mask>" not in prompt + target
    assert 0.0 < min(hidden) < 0.45 < max(hidden) <= 1.0  # a fraction drawn per example from [0, rate]
    span = vocabulary.motion_string([3, 4, 5], masked={1})
    assert vocabulary.motion_codes(vocabulary.tokenizer(span, add_special_tokens=False)["input_ids"]) == [3, 5]


def test_paraphrase_task_maps_a_caption_to_another_caption_of_the_same_clip(vocabulary):
    import random

    captions = ["someone jumps twice", "a man hops two times", "a person jumps in place twice"]
    item = MotionTextItem("000001", "000001", [1, 2, 3, 4], captions, [[], [], []], [])
    dataset = InstructionDataset([item], vocabulary, fps=20, downsample_factor=4, task_weights={"paraphrase": 1.0}, seed=0)
    for seed in range(10):
        prompt, target, _ = dataset.example(item, "paraphrase", random.Random(seed))
        source = next(c for c in captions if c in prompt)
        assert target in captions and target != source and "<som>" not in prompt + target
    single = MotionTextItem("000002", "000002", [1, 2, 3, 4], ["someone jumps twice"], [[]], [])
    assert InstructionDataset([single], vocabulary, fps=20, downsample_factor=4, task_weights={"paraphrase": 1.0})[0][1].startswith("<som>")


def test_a_local_pretrained_t5_directory_is_extended_with_motion_tokens(tmp_path):
    """`--t5 DIR` (e.g. flan-t5-base on disk): weights and tokenizer load, embeddings grow by the motion tokens."""
    from transformers import T5Config, T5ForConditionalGeneration

    text_tokenizer = train_text_tokenizer(CAPTIONS, vocab_size=300)
    text_tokenizer.save_pretrained(str(tmp_path / "t5"))
    config = T5Config(vocab_size=len(text_tokenizer), d_model=32, d_ff=64, num_layers=1, num_heads=2, d_kv=16,
                      feed_forward_proj="gated-gelu", tie_word_embeddings=False, pad_token_id=0, eos_token_id=1,
                      decoder_start_token_id=0)  # fmt: skip
    torch.manual_seed(0)
    T5ForConditionalGeneration(config).save_pretrained(str(tmp_path / "t5"))
    original = T5ForConditionalGeneration.from_pretrained(str(tmp_path / "t5"))

    lm = MotionLanguageModel.from_t5(tmp_path / "t5", codebook_size=16)
    assert len(lm.vocabulary) == len(text_tokenizer) + 16 + 3
    assert lm.t5.get_input_embeddings().weight.shape[0] >= len(lm.vocabulary)
    # the pretrained rows and layers are kept; only rows for the new tokens are added
    old_rows = original.get_input_embeddings().weight.shape[0]
    assert torch.equal(lm.t5.get_input_embeddings().weight[:old_rows], original.get_input_embeddings().weight)
    assert torch.equal(lm.t5.encoder.block[0].layer[0].SelfAttention.q.weight, original.encoder.block[0].layer[0].SelfAttention.q.weight)
    assert lm.t5.config.scale_decoder_outputs == original.config.scale_decoder_outputs
    ids = lm.generate_ids(["### Input:\nsomeone jumps\n### Output:"], motion=True, do_sample=False, min_motion_tokens=2)[0]
    assert len(lm.vocabulary.motion_codes(ids)) >= 2
    lm.save_pretrained(tmp_path / "saved")
    loaded = MotionLanguageModel.from_pretrained(tmp_path / "saved")
    assert loaded.t5.config.scale_decoder_outputs == original.config.scale_decoder_outputs
    assert torch.equal(loaded.t5.lm_head.weight, lm.t5.lm_head.weight)
    with pytest.raises(Exception, match="not a local Hugging Face T5 directory"):
        MotionLanguageModel.from_t5(tmp_path / "nothing", codebook_size=16)


def test_length_buckets_group_similar_examples_and_cover_every_item_once(vocabulary):
    from remogpt.language.data import LengthBucketSampler

    items = [MotionTextItem(f"{i:06d}", f"{i:06d}", list(range(1 + i % 15)), ["someone jumps twice"]) for i in range(96)]
    dataset = InstructionDataset(items, vocabulary, fps=20, downsample_factor=4, task_weights={"t2m": 1.0}, seed=0)
    sampler = LengthBucketSampler(dataset, 8, pool_batches=12, seed=0)
    batches = list(sampler)
    assert len(batches) == len(sampler) == 12 and sorted(i for b in batches for i in b) == list(range(96))
    spread = [max(map(dataset.example_length, b)) - min(map(dataset.example_length, b)) for b in batches]
    lengths = [dataset.example_length(i) for i in range(96)]
    assert max(spread) < (max(lengths) - min(lengths)) / 3  # a batch holds near-equal lengths
    dataset.set_epoch(1)
    assert list(sampler) != batches  # a new epoch, new batches


def test_motion_corruption_replaces_decoder_input_codes_only(vocabulary, model):
    torch.manual_seed(0)
    targets = [vocabulary.motion_string([i % 16 for i in range(40)])] * 64
    labels = model.encode_targets(targets)
    inputs = model.t5._shift_right(labels)
    corrupted = model.corrupt_motion_codes(inputs, 0.8)
    is_code = (inputs >= vocabulary.first_motion_id) & (inputs < vocabulary.first_motion_id + 16)
    assert torch.equal(corrupted[~is_code], inputs[~is_code])  # markers, start and padding untouched
    assert ((corrupted >= vocabulary.first_motion_id) & (corrupted < vocabulary.first_motion_id + 16))[is_code].all()
    changed = (corrupted != inputs).float().sum(1) / is_code.float().sum(1)
    assert 0.0 <= changed.min() < 0.2 and 0.5 < changed.max() <= 0.8  # a rate drawn per example from [0, 0.8]
    assert torch.equal(model.corrupt_motion_codes(inputs, 0.0), inputs)
    # the loss still scores the true codes: corruption changes it, fitting the labels stays the objective
    prompts = ["### Input:\nShow me someone jumps\n### Output:"] * 64
    assert model.loss(prompts, targets, corruption=0.5).item() != pytest.approx(model.loss(prompts, targets).item())


def test_training_draws_references_from_the_pool_and_validation_takes_the_top(vocabulary):
    import random

    pool = [Reference(f"neighbour {i}", (i,)) for i in range(3)]
    same = [Reference(f"caption {i}", (8 + i,)) for i in range(3)]
    item = MotionTextItem("000001", "000001", [1, 2, 3, 4], ["someone jumps twice"], [pool + same], pool + same)
    train = InstructionDataset([item], vocabulary, fps=20, downsample_factor=4, references=(1, 3), sample_references=True)
    val = InstructionDataset([item], vocabulary, fps=20, downsample_factor=4, references=(1, 3))
    seen = set()
    for seed in range(30):
        for task in ("t2m", "m2t"):
            prompt = train.example(item, task, random.Random(seed))[0]
            context = prompt.split("### Context:")[1]
            assert context.count("Text: ") == 2 and context.count("neighbour") == 1 and context.count("caption") == 1
            seen.add(next(r.caption for r in pool if r.caption in context))
            top = val.example(item, task, random.Random(seed))[0]
            assert "neighbour 0" in top and "caption 0" in top and "neighbour 1" not in top
    assert seen == {r.caption for r in pool}


def test_self_reference_puts_the_clip_itself_first_with_another_caption(vocabulary):
    import random

    codes = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]
    neighbour, same = Reference("a neighbour", (15, 15)), Reference("a text match", (14, 14))
    captions = ["someone jumps twice", "a man hops", "the man turns left"]
    item = MotionTextItem("000001", "000001", codes, captions, [[neighbour, same]] * 3, [neighbour, same])
    own_span = "<som>" + "".join(f"<motion_id_{c}>" for c in codes) + "<eom>"
    always = InstructionDataset([item], vocabulary, fps=20, downsample_factor=4, self_reference_rate=1.0)
    for seed in range(20):
        for task in ("t2m", "m2t"):
            prompt, target, _ = always.example(item, task, random.Random(seed))
            context = prompt.split("### Context:")[1]
            first, second = context.strip().split("\n")[:2]
            assert own_span in first and "a neighbour" not in context and "a text match" in second  # only the first swapped
            own_caption = first.split("Text: ")[1].split(" Motion:")[0]
            assert own_caption in captions
            query = target if task == "m2t" else prompt.split("### Context:")[0]
            assert own_caption not in query  # another caption than the one asked for or answered with
    # noise: some codes made random, never all of them on average, and the rate 0 dataset is the plain one
    noisy = InstructionDataset([item], vocabulary, fps=20, downsample_factor=4, self_reference_rate=1.0, self_reference_noise=0.5)
    changed = [own_span not in noisy.example(item, "t2m", random.Random(seed))[0] for seed in range(40)]
    assert 5 < sum(changed) < 40
    plain = InstructionDataset([item], vocabulary, fps=20, downsample_factor=4)
    never = InstructionDataset([item], vocabulary, fps=20, downsample_factor=4, self_reference_rate=0.0, self_reference_noise=0.5)
    for seed in range(20):
        assert plain.example(item, "t2m", random.Random(seed)) == never.example(item, "t2m", random.Random(seed))
    half = InstructionDataset([item], vocabulary, fps=20, downsample_factor=4, self_reference_rate=0.5)
    swapped = sum(own_span in half.example(item, "t2m", random.Random(seed))[0] for seed in range(400))
    assert 150 < swapped < 250


def test_frame_offset_variants_are_drawn_for_every_motion_task_and_a_clip_without_them_keeps_its_codes(vocabulary):
    import random

    # three sequences with disjoint codes (the tiny vocabulary has 16), so an example shows which one it drew
    plain_codes, shifted = [0, 1, 2, 3, 0, 1, 2, 3], [[4, 5, 6, 7, 4, 5, 6], [8, 9, 10, 11, 8, 9, 10]]
    sequences = (plain_codes, *shifted)
    item = MotionTextItem("000001", "000001", plain_codes, ["someone jumps twice"], token_variants=shifted)
    dataset = InstructionDataset([item], vocabulary, fps=20, downsample_factor=4)
    for task in ("t2m", "t2m_frames", "m2t", "prediction", "inbetween"):
        seen = set()
        for seed in range(60):
            prompt, target, _ = dataset.example(item, task, random.Random(seed))
            which = [i for i, codes in enumerate(sequences) if any(f"<motion_id_{c}>" in prompt + target for c in codes)]
            assert len(which) == 1, (task, prompt, target)  # one sequence per example, never a mix
            seen.add(which[0])
            if task == "t2m":
                assert target == vocabulary.motion_string(sequences[which[0]])
        assert seen == {0, 1, 2}, task
    bare = MotionTextItem("000001", "000001", plain_codes, ["someone jumps twice"])
    for seed in range(10):  # no variants: only the clip's own codes
        for task in ("t2m", "m2t", "prediction"):
            prompt, target, _ = dataset.example(bare, task, random.Random(seed))
            assert not any(f"<motion_id_{c}>" in prompt + target for c in range(4, 12))


def test_motion_tokens_from_a_frame_offset_encode_the_shifted_clip_and_share_the_cache(tmp_path):
    from types import SimpleNamespace

    import numpy as np

    from remogpt.language.train import motion_tokens_for

    class FirstFrameTokenizer:  # one token per motion: its first frame's value, so the offset is visible
        calls = 0

        def encode(self, features_list):
            FirstFrameTokenizer.calls += 1
            return [[int(f[0, 0])] for f in features_list]

    samples = [SimpleNamespace(name=f"m{i}", features=np.arange(10.0)[:, None] + 100 * i) for i in range(2)]
    cache = tmp_path / "motion_tokens.json"
    tokenizer = FirstFrameTokenizer()
    assert motion_tokens_for(samples, tokenizer, cache) == {"m0": [0], "m1": [100]}
    assert motion_tokens_for(samples, tokenizer, cache, offset=3) == {"m0": [3], "m1": [103]}
    assert motion_tokens_for(samples, tokenizer, cache, offset=3) == {"m0": [3], "m1": [103]}
    assert motion_tokens_for(samples, tokenizer, cache) == {"m0": [0], "m1": [100]}
    assert FirstFrameTokenizer.calls == 2  # both offsets read back from the one cache file


def test_context_guidance_at_zero_changes_nothing_and_moves_toward_the_context(model, vocabulary):
    from remogpt.language.model import ContextGuidance

    ref = Reference("a person waves", (5, 6, 7))
    prompts = [build_prompt("Show me a motion that illustrates someone jumps", [ref]), build_prompt("Animate this: a man hops", [ref])]
    plain = [build_prompt("Show me a motion that illustrates someone jumps"), build_prompt("Animate this: a man hops")]
    torch.manual_seed(0)
    reference = model.generate_ids(prompts, motion=True, num_samples=2)
    torch.manual_seed(0)
    assert model.generate_ids(prompts, motion=True, num_samples=2, guidance_prompts=plain, guidance_scale=0.0) == reference
    torch.manual_seed(0)
    guided = model.generate_ids(prompts, motion=True, num_samples=2, guidance_prompts=plain, guidance_scale=3.0)
    assert len(guided) == 4 and all(vocabulary.motion_codes(row) for row in guided)
    # one step by hand: (1 + s) log p(x | context) - s log p(x | no context)
    step = ContextGuidance(model, plain[:1], 2.0, 1)
    start = torch.full((1, 1), vocabulary.pad_id)
    with torch.no_grad():
        inputs = model.encode_prompts(prompts[:1])
        with_context = model.t5(**inputs, decoder_input_ids=start).logits[:, -1]
        without = model.t5(**model.encode_prompts(plain[:1]), decoder_input_ids=start).logits[:, -1]
    expected = 3.0 * torch.log_softmax(with_context, -1) - 2.0 * torch.log_softmax(without, -1)
    assert torch.allclose(step(start, with_context), expected, atol=1e-5)


def test_caption_dropout_drops_caption_and_context_but_keeps_the_length(vocabulary):
    ref = Reference("a person waves", (5, 6, 7))
    item = MotionTextItem("000001", "000001", list(range(1, 11)), ["someone jumps high"], [[ref]], [ref])
    dropped = InstructionDataset([item], vocabulary, fps=20, downsample_factor=4, caption_dropout=1.0)
    for seed in range(10):
        prompt, target, query = dropped.example(item, "t2m_frames", random.Random(seed))
        assert "jumps" not in prompt and "### Context:" not in prompt and "40 frames" in prompt and query is None
        assert target == vocabulary.motion_string(item.tokens)
        assert "jumps" in dropped.example(item, "m2t", random.Random(seed)).target  # captioning keeps its caption
    plain = InstructionDataset([item], vocabulary, fps=20, downsample_factor=4)
    never = InstructionDataset([item], vocabulary, fps=20, downsample_factor=4, caption_dropout=0.0)
    tenth = InstructionDataset([item], vocabulary, fps=20, downsample_factor=4, caption_dropout=0.1)
    assert all(plain.example(item, "t2m", random.Random(s)) == never.example(item, "t2m", random.Random(s)) for s in range(20))
    assert 20 < sum("jumps" not in tenth.example(item, "t2m", random.Random(s)).prompt for s in range(400)) < 60


def test_text_guidance_contrasts_the_prompt_with_its_unconditional_instruction(monkeypatch, tiny_model_dir):
    from remogpt.language.model import MotionLanguageModel
    from remogpt.pipeline import ReMoGPT

    seen = []
    original = MotionLanguageModel.generate_ids
    monkeypatch.setattr(MotionLanguageModel, "generate_ids", lambda self, prompts, **k: seen.append((prompts, k)) or original(self, prompts, **k))
    model = ReMoGPT.from_pretrained(tiny_model_dir)
    model.sampling.candidates, model.sampling.text_guidance = 1, 2.5
    model.generate_motions(["a person jumps", "someone waves"], lengths=[40, None], seed=0)
    prompts, kwargs = seen[-1]
    assert kwargs["guidance_scale"] == 2.5 and all("### Context:" in p for p in prompts)
    unconditional = kwargs["guidance_prompts"]
    assert len(unconditional) == 2 and not any("jumps" in p or "waves" in p or "### Context:" in p for p in unconditional)
    assert "40 frames" in unconditional[0]  # the length stays (the second takes its reference's)
    assert ReMoGPT.from_pretrained(tiny_model_dir).sampling.text_guidance == 0.0  # off unless the model says so


def test_text_guidance_is_a_model_default_and_an_option(monkeypatch, tiny_model_dir, tmp_path, run_cli):
    import json
    import shutil

    from remogpt.language.model import MotionLanguageModel
    from remogpt.pipeline import ReMoGPT

    copy = tmp_path / "model"
    shutil.copytree(tiny_model_dir, copy)
    config = json.loads((copy / "remogpt.json").read_text())
    (copy / "remogpt.json").write_text(json.dumps({**config, "text_guidance": 1.5}))
    assert ReMoGPT.from_pretrained(copy).sampling.text_guidance == 1.5
    scales = []
    original = MotionLanguageModel.generate_ids
    monkeypatch.setattr(MotionLanguageModel, "generate_ids", lambda self, prompts, **k: scales.append(k.get("guidance_scale")) or original(self, prompts, **k))
    for extra, scale in (((), 1.5), (("--text-guidance", "0.5"), 0.5), (("--text-guidance", "0"), 0.0)):
        code, _, err = run_cli("generate", "a person waves", "--model", copy, "-o", tmp_path / "g.npy", "--seed", "1", *extra)
        assert code == 0, err
        assert scales[-1] == scale
    code, _, err = run_cli("generate", "a person waves", "--model", copy, "-o", tmp_path / "g.npy", "--text-guidance", "1", "--context-guidance", "1")
    assert code == 2 and "not both" in err


def test_train_lm_writes_its_text_guidance_as_the_decoding_default(tiny_model_dir, synth_dir, tmp_path, run_cli):
    from remogpt.pipeline import ReMoGPT

    common = ("train", "lm", "--data", synth_dir, "--tokenizer", tiny_model_dir / "motion_tokenizer", "--index", tiny_model_dir / "database",
              "--preset", "tiny", "--pretrain-steps", "2", "--max-steps", "2")  # fmt: skip
    code, _, err = run_cli(*common, "--out", tmp_path / "unseen", "--text-guidance", "1")
    assert code == 2 and "--caption-dropout" in err and not (tmp_path / "unseen" / "remogpt.json").exists()
    code, _, err = run_cli(*common, "--out", tmp_path / "lm", "--caption-dropout", "0.5", "--text-guidance", "1.5")
    assert code == 0, err
    model = ReMoGPT.from_pretrained(tmp_path / "lm")
    assert model.sampling.text_guidance == 1.5 and model.config.training["caption_dropout"] == 0.5


def test_train_lm_tokenizes_training_clips_from_each_frame_offset(tiny_model_dir, synth_dir, tmp_path, run_cli):
    import json

    from remogpt.data.folder import HumanML3DFolder

    common = ("train", "lm", "--data", synth_dir, "--tokenizer", tiny_model_dir / "motion_tokenizer", "--index", tiny_model_dir / "database",
              "--preset", "tiny", "--pretrain-steps", "2", "--max-steps", "2")  # fmt: skip
    code, _, err = run_cli(*common, "--out", tmp_path / "bad", "--frame-offsets", "0")
    assert code == 2 and "--frame-offsets" in err
    code, _, err = run_cli(*common, "--out", tmp_path / "lm", "--frame-offsets", "3")
    assert code == 0, err
    tokens = json.loads((tmp_path / "lm" / "motion_tokens.json").read_text())
    folder = HumanML3DFolder(synth_dir)
    train, val = [s.name for s in folder.samples("train")], [s.name for s in folder.samples("val")]
    assert all(f"{name}@{offset}" in tokens for name in train for offset in (1, 2))
    assert not any(f"{name}@1" in tokens for name in val)  # validation keeps one sequence per clip
    assert any(tokens[f"{name}@1"] != tokens[name] for name in train)


def test_the_text_tokenizer_is_the_same_every_time_it_is_trained():
    """The unigram trainer's scores differ in the last bits between runs and it numbers its kept pieces in hash
    order; train_text_tokenizer makes one corpus give one vocabulary (ids and scores), so a rerun is the same model."""
    import json

    vocabularies = {json.dumps(json.loads(train_text_tokenizer(CAPTIONS, 300).backend_tokenizer.to_str())["model"]) for _ in range(4)}
    assert len(vocabularies) == 1


def test_prediction_and_inbetween_prompts_hold_the_start_context_when_asked(vocabulary):
    ref = Reference("a person kneels", (7, 8, 9))
    items = [MotionTextItem(f"{i:06d}", f"{i:06d}", list(range(1, 13)), ["someone jumps", "a man hops"], [[], []], [], [ref])
             for i in range(40)]  # fmt: skip
    weights = {"prediction": 0.5, "inbetween": 0.5}
    plain = InstructionDataset(items, vocabulary, fps=20, downsample_factor=4, task_weights=weights, seed=0)
    assert all("### Context:" not in plain[i][0] for i in range(len(items)))  # MotionGPT's prompts: no context
    with_context = InstructionDataset(items, vocabulary, fps=20, downsample_factor=4, task_weights=weights, seed=0, motion_task_context=True)
    for i in range(len(items)):
        prompt, target, _ = with_context[i]
        assert "### Context:" in prompt and "Text: a person kneels" in prompt and vocabulary.motion_string([7, 8, 9]) in prompt
        assert (prompt.splitlines()[1], target) == (plain[i][0].splitlines()[1], plain[i][1])  # the same example drawn


def test_task_weights_override_the_defaults_and_bad_ones_are_one_sentence():
    from remogpt.errors import UserInputError
    from remogpt.language.train import parse_task_weights

    assert parse_task_weights("") == {}
    assert parse_task_weights("t2m=0.1, t2m_frames=0.35") == {"t2m": 0.1, "t2m_frames": 0.35}
    for bad in ("t2m", "walk=0.2", "m2t=-1", "m2t=x"):
        with pytest.raises(UserInputError, match="--task-weights"):
            parse_task_weights(bad)
