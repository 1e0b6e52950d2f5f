"""The query prefix: the language model reads its retriever's embedding of the query in front of the prompt."""

from __future__ import annotations

import random

import numpy as np
import pytest
import torch

from remogpt.language.data import InstructionDataset, MotionTextItem, QueryCollate
from remogpt.language.model import MotionLanguageModel
from remogpt.language.prompts import Reference
from remogpt.language.vocabulary import MotionVocabulary, train_text_tokenizer
from remogpt.pipeline import ReMoGPT

PROMPTS = ["### Input:\nShow me a motion that illustrates a person waves\n### Output:", "### Input:\nsomeone jumps\n### Output:"]
TARGETS = ["<som><motion_id_1><motion_id_2><eom>", "<som><motion_id_3><eom>"]


@pytest.fixture(scope="module")
def vocabulary():
    return MotionVocabulary.build(train_text_tokenizer(["a person waves", "someone jumps twice", "a man hops"] * 20, 300), 16)


def test_a_row_without_a_query_reads_exactly_the_plain_prompt(vocabulary):
    torch.manual_seed(0)
    model = MotionLanguageModel.from_preset("tiny", vocabulary).eval()
    with torch.no_grad():
        plain = float(model.loss(PROMPTS, TARGETS))
    model.add_query_prefix(3, 8)
    assert model.config.query_prefix == 3 and model.config.query_embedding_dim == 8
    # no embedding (prediction, in-betweening) or none given: the prefix is masked out, the T5 sees the plain prompt
    assert float(model.loss(PROMPTS, TARGETS, query_embeddings=torch.zeros(2, 8))) == pytest.approx(plain, abs=1e-5)
    assert float(model.loss(PROMPTS, TARGETS)) == pytest.approx(plain, abs=1e-5)
    with_query = float(model.loss(PROMPTS, TARGETS, query_embeddings=torch.nn.functional.normalize(torch.randn(2, 8), dim=-1)))
    assert abs(with_query - plain) > 1e-3
    with pytest.raises(ValueError, match="query embeddings"):
        model.loss(PROMPTS, TARGETS, query_embeddings=torch.zeros(2, 5))


def test_generation_reads_the_query_and_the_prefix_round_trips(vocabulary, tmp_path):
    torch.manual_seed(0)
    model = MotionLanguageModel.from_preset("tiny", vocabulary).eval()
    model.add_query_prefix(2, 8)
    queries = torch.nn.functional.normalize(torch.randn(2, 8), dim=-1)
    start = torch.full((2, 1), vocabulary.pad_id)
    with torch.no_grad():
        logits = model.t5(**model.encoder_inputs(PROMPTS[:1] * 2, queries), decoder_input_ids=start).logits[:, -1]
    assert not torch.allclose(logits[0], logits[1])  # the same prompt, two queries: two next-token distributions
    greedy = dict(motion=True, do_sample=False, max_new_tokens=6, query_embeddings=queries)
    first = model.generate_ids(PROMPTS, **greedy)
    model.save_pretrained(tmp_path / "lm")
    loaded = MotionLanguageModel.from_pretrained(tmp_path / "lm").eval()
    assert loaded.config.query_prefix == 2
    assert loaded.generate_ids(PROMPTS, **greedy) == first
    with torch.no_grad():
        again = loaded.t5(**loaded.encoder_inputs(PROMPTS[:1] * 2, queries), decoder_input_ids=start).logits[:, -1]
    assert torch.allclose(again, logits, atol=1e-5)


def test_examples_name_their_query_and_batches_carry_its_embedding(vocabulary):
    ref = Reference("a person waves", (5, 6))
    items = []
    for i in range(4):
        item = MotionTextItem(f"{i:06d}", f"{i:06d}", list(range(1, 9)), ["someone jumps twice", "a man hops"], [[ref], [ref]], [ref])
        item.caption_embeddings = np.array([[i, 1.0, 0.0], [i, 2.0, 0.0]], dtype=np.float32)
        item.motion_embedding = np.array([i, 0.0, 3.0], dtype=np.float32)
        items.append(item)
    dataset = InstructionDataset(items, vocabulary, fps=20, downsample_factor=4, seed=0)
    collate = QueryCollate(items)
    for task in ("t2m", "m2t", "prediction", "inbetween"):
        example = dataset.example(items[2], task, random.Random(1))
        batch = collate([example])
        embedding = batch["query_embeddings"][0].numpy()
        if task == "t2m":
            which = items[2].captions.index(example.prompt.split("illustrates ")[-1].split("\n")[0]) if "illustrates" in example.prompt else None
            assert example.query[:2] == ("text", items[2].name)
            assert np.array_equal(embedding, items[2].caption_embeddings[example.query[2]])
            assert which is None or which == example.query[2]
        elif task == "m2t":
            assert example.query == ("motion", items[2].name) and np.array_equal(embedding, items[2].motion_embedding)
        else:
            assert example.query is None and not embedding.any()
        assert batch["prompts"] == [example.prompt] and batch["targets"] == [example.target]


def test_train_lm_with_a_query_prefix_and_the_pipeline_feeds_it(tiny_model_dir, synth_dir, tmp_path, run_cli, monkeypatch):
    code, _, err = run_cli(
        "train", "lm", "--data", synth_dir, "--tokenizer", tiny_model_dir / "motion_tokenizer", "--index", tiny_model_dir / "database",
        "--out", tmp_path / "lm", "--preset", "tiny", "--pretrain-steps", "2", "--max-steps", "2", "--query-prefix", "2",
    )  # fmt: skip
    assert code == 0, err
    model = ReMoGPT.from_pretrained(tmp_path / "lm")
    assert model.lm.config.query_prefix == 2 and model.config.training["query_prefix"] == 2
    seen: list = []
    original = model.lm.generate_ids
    monkeypatch.setattr(model.lm, "generate_ids", lambda *a, **k: seen.append(k["query_embeddings"]) or original(*a, **k))
    texts = ["a person waves", "someone jumps twice"]
    assert len(model.generate_motions(texts, seed=0)) == 2
    assert np.allclose(seen[0], model.retriever.embed_texts(texts), atol=1e-5)
    motions = [model.generate_motions(texts[:1], seed=1)[0].features]
    seen.clear()
    assert model.caption(motions)[0]
    assert np.allclose(seen[0], model.retriever.embed_motions(motions), atol=1e-5)
    code, _, err = run_cli(
        "train", "lm", "--data", synth_dir, "--tokenizer", tiny_model_dir / "motion_tokenizer", "--index", tiny_model_dir / "database",
        "--out", tmp_path / "lm2", "--preset", "tiny", "--query-prefix", "2", "--copy-head",
    )  # fmt: skip
    assert code == 2 and "cannot be combined" in err
