"""The Guo et al. evaluator: official parameter names, finest.tar loading, input order, GloVe vocabulary."""

from __future__ import annotations

import pickle

import numpy as np
import pytest
import torch
from torch import nn
from torch.nn.utils.rnn import pack_padded_sequence

from remogpt.errors import UserInputError
from remogpt.evaluation.guo import EvaluatorConfig, TextMotionEvaluator, load_evaluator
from remogpt.evaluation.word_vectorizer import POS_CLASSES, WordVectorizer, load_plain_pickle, sentence_tokens

torch.set_num_threads(1)

SMALL = dict(dim_movement_enc_hidden=24, dim_movement_latent=20, dim_text_hidden=16, dim_motion_hidden=32, dim_coemb_hidden=12)


# --- a reference written from the paper's description, with the reference code's attribute layout and its
# --- length-sorted calling convention (embeddings come back sorted, lengths divided by 4 in the caller)
class RefMovement(nn.Module):
    def __init__(self, i, h, o):
        super().__init__()
        self.main = nn.Sequential(nn.Conv1d(i, h, 4, 2, 1), nn.Dropout(0.2), nn.LeakyReLU(0.2),
                                  nn.Conv1d(h, o, 4, 2, 1), nn.Dropout(0.2), nn.LeakyReLU(0.2))  # fmt: skip
        self.out_net = nn.Linear(o, o)

    def forward(self, x):
        return self.out_net(self.main(x.permute(0, 2, 1)).permute(0, 2, 1))


class RefBiGRU(nn.Module):
    def __init__(self, i, h, o, pos=None):
        super().__init__()
        if pos is not None:
            self.pos_emb = nn.Linear(pos, i)
        self.input_emb = nn.Linear(i, h)
        self.gru = nn.GRU(h, h, batch_first=True, bidirectional=True)
        self.output_net = nn.Sequential(nn.Linear(2 * h, h), nn.LayerNorm(h), nn.LeakyReLU(0.2), nn.Linear(h, o))
        self.hidden = nn.Parameter(torch.randn(2, 1, h))

    def forward(self, x, lengths, pos=None):  # x sorted by decreasing length
        if pos is not None:
            x = x + self.pos_emb(pos)
        packed = pack_padded_sequence(self.input_emb(x), lengths.tolist(), batch_first=True)
        _, last = self.gru(packed, self.hidden.repeat(1, x.shape[0], 1))
        return self.output_net(torch.cat([last[0], last[1]], -1))


def official_names(prefix_sizes: dict) -> set[str]:
    gru = {f"gru.{w}_{k}_l0{r}" for w in ("weight", "bias") for k in ("ih", "hh") for r in ("", "_reverse")}
    head = {"input_emb.weight", "input_emb.bias", "hidden", *gru}
    head |= {f"output_net.{i}.{p}" for i in (0, 1, 3) for p in ("weight", "bias")}
    return {
        "movement_encoder": {f"{m}.{p}" for m in ("main.0", "main.3", "out_net") for p in ("weight", "bias")},
        "motion_encoder": head,
        "text_encoder": head | {"pos_emb.weight", "pos_emb.bias"},
    }


def make_official_dir(tmp_path, shared_data, config: EvaluatorConfig, seed=0):
    """finest.tar in the official layout + GloVe files (real vocabulary, random vectors) + evaluator statistics."""
    torch.manual_seed(seed)
    movement = RefMovement(config.dim_pose - 4, config.dim_movement_enc_hidden, config.dim_movement_latent)
    motion = RefBiGRU(config.dim_movement_latent, config.dim_motion_hidden, config.dim_coemb_hidden)
    text = RefBiGRU(config.dim_word, config.dim_text_hidden, config.dim_coemb_hidden, pos=len(POS_CLASSES))
    opt_text = torch.optim.Adam(text.parameters(), lr=1e-4)
    opt_motion = torch.optim.Adam(motion.parameters(), lr=1e-4)
    checkpoint = {
        "text_encoder": text.state_dict(), "motion_encoder": motion.state_dict(),
        "movement_encoder": movement.state_dict(), "opt_text_encoder": opt_text.state_dict(),
        "opt_motion_encoder": opt_motion.state_dict(), "epoch": 7, "iter": 1234,
    }  # fmt: skip
    root = tmp_path / "official"
    (root / "text_mot_match" / "model").mkdir(parents=True)
    torch.save(checkpoint, root / "text_mot_match" / "model" / "finest.tar")
    (root / "glove").mkdir()
    for name in ("our_vab_words.pkl", "our_vab_idx.pkl"):
        (root / "glove" / name).write_bytes((shared_data / "evaluator" / name).read_bytes())
    words = load_plain_pickle(root / "glove" / "our_vab_words.pkl", name="words")
    vectors = np.random.default_rng(seed).standard_normal((len(words), config.dim_word)).astype(np.float32)
    np.save(root / "glove" / "our_vab_data.npy", vectors)
    np.save(root / "t2m_mean.npy", np.load(shared_data / "evaluator" / "t2m_mean.npy"))
    np.save(root / "t2m_std.npy", np.load(shared_data / "evaluator" / "t2m_std.npy"))
    return root, (movement, motion, text), vectors, words


def test_parameter_names_are_the_official_ones():
    model = TextMotionEvaluator(EvaluatorConfig(**SMALL))
    for key, names in official_names({}).items():
        assert set(getattr(model, key).state_dict()) == names, key


def test_official_checkpoint_loads_strictly_and_matches_reference(tmp_path, shared_data):
    config = EvaluatorConfig(**SMALL)
    root, (movement, motion, text), vectors, words = make_official_dir(tmp_path, shared_data, config)
    evaluator = load_evaluator(root)
    assert evaluator.identity["kind"] == "official" and evaluator.identity["epoch"] == 7
    assert evaluator.config.dim_motion_hidden == 32 and evaluator.config.vocab_size == 4199
    for ref in (movement, motion, text):
        ref.eval()

    # motions of different lengths, deliberately NOT sorted; compare with the reference convention
    rng = np.random.default_rng(1)
    mean, std = np.load(root / "t2m_mean.npy"), np.load(root / "t2m_std.npy")
    lengths = np.array([48, 196, 100, 64, 120])
    raw = [rng.standard_normal((n, 263)).astype(np.float32) * std.astype(np.float32) + mean.astype(np.float32) for n in lengths]
    ours = evaluator.embed_motions(raw, batch_size=2)
    order = np.argsort(-lengths, kind="stable")
    padded = torch.zeros(len(raw), 196, 263)
    for row, i in enumerate(order):
        padded[row, : lengths[i]] = torch.from_numpy((raw[i] - mean) / std)
    with torch.no_grad():
        reference = motion(movement(padded[..., :-4]), torch.from_numpy(lengths[order] // 4)).numpy()
    np.testing.assert_allclose(ours[order], reference, atol=2e-5)  # our rows are in INPUT order

    tokens = [["a/DET", "person/NOUN", "walk/VERB", "forward/ADV"], ["someone/PRON", "jump/VERB"], ["wave/VERB"] * 30]
    ours_text = evaluator.embed_texts(tokens)
    word_embs, pos, sent_lengths = evaluator.vectorizer.encode(tokens)
    text_order = np.argsort(-sent_lengths, kind="stable")
    with torch.no_grad():
        ref_text = text(torch.from_numpy(word_embs[text_order]), torch.from_numpy(sent_lengths[text_order]),
                        pos=torch.from_numpy(pos[text_order])).numpy()  # fmt: skip
    np.testing.assert_allclose(ours_text[text_order], ref_text, atol=2e-5)
    # the word table is the GloVe file, rows in word-list order
    np.testing.assert_array_equal(evaluator.vectorizer.vectors[words.index("walk")], vectors[words.index("walk")])


def test_checkpoint_with_wrong_names_is_refused(tmp_path, shared_data):
    config = EvaluatorConfig(**SMALL)
    root, *_ = make_official_dir(tmp_path, shared_data, config)
    path = root / "text_mot_match" / "model" / "finest.tar"
    checkpoint = torch.load(path, weights_only=True)
    checkpoint["motion_encoder"]["extra.weight"] = torch.zeros(1)
    torch.save(checkpoint, path)
    with pytest.raises(UserInputError, match="motion_encoder does not match"):
        load_evaluator(root)


def test_pickled_code_in_checkpoint_is_refused(tmp_path, shared_data):
    config = EvaluatorConfig(**SMALL)
    root, *_ = make_official_dir(tmp_path, shared_data, config)
    path = root / "text_mot_match" / "model" / "finest.tar"
    torch.save({"text_encoder": {}, "motion_encoder": {}, "movement_encoder": {}, "opt": EvaluatorConfig()}, path)
    with pytest.raises(UserInputError, match="cannot be read safely"):
        load_evaluator(root)


def test_missing_official_files_are_named(tmp_path):
    (tmp_path / "ev").mkdir()
    with pytest.raises(UserInputError, match="finest.tar"):
        load_evaluator(tmp_path / "ev")


def test_glove_vocabulary_and_pos_classes(shared_data, tmp_path):
    words = load_plain_pickle(shared_data / "evaluator" / "our_vab_words.pkl", name="words")
    index = load_plain_pickle(shared_data / "evaluator" / "our_vab_idx.pkl", name="index")
    assert len(words) == 4199 and words[:3] == ["sos", "eos", "unk"]
    vectors = np.arange(len(words) * 3, dtype=np.float32).reshape(-1, 3)
    vectorizer = WordVectorizer.from_vocabulary(words, index, vectors)
    walk_row, walk_pos = vectorizer.lookup("walk/VERB")
    assert words[walk_row] == "walk" and POS_CLASSES[walk_pos] == "Act_VIP"  # the VIP list beats the tagger
    assert POS_CLASSES[vectorizer.lookup("left/ADJ")[1]] == "Loc_VIP"
    assert POS_CLASSES[vectorizer.lookup("man/NOUN")[1]] == "NOUN"
    assert POS_CLASSES[vectorizer.lookup("the/CCONJ")[1]] == "OTHER"  # a tag outside the 15 classes
    assert vectorizer.lookup("qwertyuiop/NOUN") == (index["unk"], POS_CLASSES.index("OTHER"))

    sentence, length = sentence_tokens(["w/NOUN"] * 25)
    assert length == 22 and len(sentence) == 22 and sentence[0] == "sos/OTHER" and sentence[-1] == "eos/OTHER"
    sentence, length = sentence_tokens(["a/DET", "man/NOUN"])
    assert length == 4 and sentence[4:] == ["unk/OTHER"] * 18
    embs, pos, lengths = vectorizer.encode([["a/DET", "man/NOUN"]])
    assert embs.shape == (1, 22, 3) and pos.shape == (1, 22, 15) and lengths.tolist() == [4]
    np.testing.assert_array_equal(embs[0, 1], vectors[index["a"]])
    assert pos[0].sum() == 22 and pos[0, 0, POS_CLASSES.index("OTHER")] == 1


def test_restricted_unpickler_refuses_objects(tmp_path):
    class Evil:
        def __reduce__(self):
            return (print, ("owned",))

    path = tmp_path / "evil.pkl"
    path.write_bytes(pickle.dumps([Evil()]))
    with pytest.raises(UserInputError, match="not a plain pickle"):
        load_plain_pickle(path, name="GloVe words")


def test_own_evaluator_round_trip(tmp_path):
    words = ["sos", "eos", "unk", "walk"]
    model = TextMotionEvaluator(EvaluatorConfig(**SMALL, vocab_size=4, dim_word=8, word_vectors="test"), words)
    model.word_vectors.normal_()
    model.save_pretrained(tmp_path / "ev")
    loaded = load_evaluator(tmp_path / "ev")
    assert loaded.words == words and loaded.identity["kind"] == "remogpt" and len(loaded.identity["sha256"]) == 64
    motion = [np.random.default_rng(0).standard_normal((60, 263)).astype(np.float32)]
    np.testing.assert_allclose(loaded.embed_motions(motion), model.embed_motions(motion), atol=1e-6)


def test_embedding_does_not_depend_on_batch_companions():
    model = TextMotionEvaluator(EvaluatorConfig(**SMALL))
    rng = np.random.default_rng(3)
    motions = [rng.standard_normal((n, 263)).astype(np.float32) for n in (40, 52, 196, 199, 77)]
    together = model.embed_motions(motions)
    alone = np.concatenate([model.embed_motions([m]) for m in motions])
    np.testing.assert_allclose(together, alone, atol=2e-5)


def test_model_normalised_motions_are_renormalised_to_evaluator_statistics(shared_data):
    """Features normalised with the dataset's Mean/Std embed like the raw features (evaluator statistics differ)."""
    model = TextMotionEvaluator(EvaluatorConfig(**SMALL))
    model.set_statistics(np.load(shared_data / "evaluator" / "t2m_mean.npy"), np.load(shared_data / "evaluator" / "t2m_std.npy"))
    mean = np.load(shared_data / "humanml3d" / "Mean.npy")
    std = np.load(shared_data / "humanml3d" / "Std.npy")
    raw = np.load(shared_data / "humanml3d" / "new_joint_vecs" / "012314.npy")
    normalised = (raw - mean) / std
    np.testing.assert_allclose(
        model.embed_motions([normalised], statistics=(mean, std)), model.embed_motions([raw]), atol=1e-4
    )
    assert not np.allclose(model.embed_motions([normalised]), model.embed_motions([raw]), atol=1e-3)
