"""The retrieval database: four similarity types, top-k per type, exclusions, index types, save/load."""

import numpy as np
import pytest

from remogpt.errors import UserInputError
from remogpt.retrieval.database import Exclude, RetrievalDatabase, DatabaseConfig, make_index


def _unit(rows):
    rows = np.asarray(rows, dtype=np.float32)
    return rows / np.linalg.norm(rows, axis=1, keepdims=True)


@pytest.fixture
def database():
    """Four clips, one of them mirrored, six captions; embeddings placed so the expected order is known."""
    rng = np.random.default_rng(0)
    motion_ids = ["000001", "M000001", "000002", "000003"]
    names = ["000001", "M000001", "000002", "000003@1.0-3.0"]
    captions = [
        ["a person waves with the left hand", "someone waves left"],
        ["a person waves with the right hand"],
        ["a person walks forward", "someone walks"],
        ["a person jumps"],
    ]
    base = _unit(rng.normal(size=(4, 16)))
    motion_emb = base
    pair_motion = np.array([row for row, caps in enumerate(captions) for _ in caps])
    pair_captions = [c for caps in captions for c in caps]
    text_emb = _unit(base[pair_motion] + 0.05 * rng.normal(size=(len(pair_motion), 16)))
    config = DatabaseConfig(retriever="/none", data="/none", split="train", latent_dim=16, num_motions=4, num_pairs=6)
    tokens = [[1, 2, 3], [4, 5], [6], [7, 8, 9, 10]]
    return RetrievalDatabase(
        config, names, motion_ids, [c[0] for c in captions], pair_motion, pair_captions, motion_emb, text_emb, tokens
    )


def test_four_similarity_types_with_top_k_each(database):
    query = database.motion_embeddings[2:3]  # the walking clip
    (result,) = database.search(query, "text", k=2)
    assert list(result) == ["text->motion", "text->text"]
    assert [h.rank for h in result["text->motion"]] == [1, 2]
    assert result["text->motion"][0].name == "000002" and result["text->motion"][0].similarity == pytest.approx(1.0)
    assert {h.caption for h in result["text->text"]} == {"a person walks forward", "someone walks"}
    (result,) = database.search(query, "motion", k=1)
    assert list(result) == ["motion->text", "motion->motion"]  # the paper's order for a motion query
    assert result["motion->motion"][0].tokens == [6]
    (result,) = database.search(query, "text", k={"text->motion": 3})
    assert list(result) == ["text->motion"] and len(result["text->motion"]) == 3


def test_excluding_own_clip_removes_its_mirror_too(database):
    query = database.motion_embeddings[0:1]
    (plain,) = database.search(query, "motion", k=4)
    assert plain["motion->motion"][0].name == "000001"
    (result,) = database.search(query, "motion", k=4, exclude=[Exclude(motion_id="000001")])
    names = [h.name for h in result["motion->motion"]]
    assert names and "000001" not in names and "M000001" not in names
    assert len(names) == 2  # only two other clips are left, fewer than k
    texts = [h.motion_id for h in result["motion->text"]]
    assert not {"000001", "M000001"} & set(texts) and len(texts) == 3
    # excluding by the mirror id is the same
    (mirror,) = database.search(query, "motion", k=4, exclude=[Exclude(motion_id="M000001")])
    assert [h.name for h in mirror["motion->motion"]] == names


def test_excluding_identical_captions(database):
    query = database.text_embeddings[2:3]  # "a person waves with the right hand"
    (result,) = database.search(query, "text", k=6, exclude=[Exclude(caption="A person waves with the RIGHT hand ")])
    assert "a person waves with the right hand" not in [h.caption for h in result["text->text"]]
    assert "M000001" not in [h.name for h in result["text->motion"]]  # the motion carrying that caption goes too
    assert len(result["text->text"]) == 5


def test_batched_search_applies_each_querys_own_exclusion(database):
    queries = database.motion_embeddings
    rules = [Exclude(motion_id=m) for m in database.motion_ids]
    results = database.search(queries, "motion", k=1, exclude=rules)
    for motion_id, result in zip(database.motion_ids, results):
        key = motion_id.lstrip("M")
        assert result["motion->motion"][0].motion_id.lstrip("M") != key


def test_save_and_load_round_trip(database, tmp_path):
    database.save(tmp_path / "db")
    assert (tmp_path / "db" / "config.json").is_file()
    assert not (tmp_path / "db" / "motion.faiss").exists()  # flat: rebuilt from the embeddings at load
    loaded = RetrievalDatabase.load(tmp_path / "db")
    assert loaded.tokens == database.tokens and loaded.pair_captions == database.pair_captions
    assert loaded.motion_names == database.motion_names
    query = database.text_embeddings[:3]
    before = database.search(query, "text", k=2, exclude=[Exclude(motion_id="000002")] * 3)
    after = loaded.search(query, "text", k=2, exclude=[Exclude(motion_id="000002")] * 3)
    assert [[h.to_dict() for h in r["text->motion"]] for r in before] == [
        [h.to_dict() for h in r["text->motion"]] for r in after
    ]


def test_load_errors(tmp_path):
    with pytest.raises(UserInputError, match="has no config.json"):
        RetrievalDatabase.load(tmp_path)


def test_query_width_must_match(database):
    with pytest.raises(UserInputError, match="8 dims"):
        database.search(np.ones((1, 8), np.float32), "text")


@pytest.mark.parametrize("kind", ["ivf", "hnsw"])
def test_approximate_indexes_agree_with_exact_search(kind):
    rng = np.random.default_rng(3)
    data = _unit(rng.normal(size=(2000, 32)))
    queries = _unit(data[:50] + 0.1 * rng.normal(size=(50, 32)))
    _, exact = make_index(data, "flat").search(queries, 10)
    _, approx = make_index(data, kind, nprobe=16).search(queries, 10)
    recall = np.mean([len(set(a) & set(e)) / 10 for a, e in zip(approx, exact)])
    assert recall > 0.8
    assert (exact[:, 0] == np.arange(50)).all()


def test_unknown_index_type():
    with pytest.raises(UserInputError, match="index type 'lsh'"):
        make_index(np.zeros((4, 4), np.float32), "lsh")
