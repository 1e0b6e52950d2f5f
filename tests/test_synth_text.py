"""Captions of the built-in dataset and the deterministic POS tagger behind their token field."""

from __future__ import annotations

import re

import numpy as np

from remogpt.data.folder import POS_TAGS, Caption, format_caption_line, parse_caption_line
from remogpt.data.synth.actions import Action, MotionSpec, Segment
from remogpt.data.synth.captions import captions, mirror_text
from remogpt.data.synth.compose import sample_spec
from remogpt.data.synth.tagger import known, tag, token_field, tokenize


def test_tagger_writes_humanml3d_tokens():
    tokens = token_field("A person walks forward, then turns around and waves his right hand 3 times.")
    assert tokens == [
        "a/DET", "person/NOUN", "walk/VERB", "forward/ADV", "then/ADV", "turn/VERB", "around/ADP", "and/CCONJ",
        "wave/VERB", "his/DET", "right/ADJ", "hand/NOUN", "time/NOUN",
    ]  # lower case, alphabetic only (the digit is dropped), NOUN/VERB lemmatised


def test_tagger_resolves_ambiguous_words_by_context():
    tags = dict(tag("someone does a squat"))
    assert tags["squat"] == "NOUN"
    assert dict(tag("someone squats twice"))["squat"] == "VERB"
    assert tag("he turns to the left")[-1] == ("left", "NOUN")
    assert tag("he leans left")[-1] == ("left", "ADV")
    assert ("sit", "VERB") in tag("a woman is sitting on a chair")
    assert ("foot", "NOUN") in tag("hops on one of his feet")
    assert tag("uses the hand to wave")[-2] == ("to", "PART")


def test_every_tag_is_universal_and_unknown_words_are_guessed():
    for word, pos in tag("the perosn quikly wavess hello while jumpping"):
        assert pos in POS_TAGS and word.isalpha() and word == word.lower()
    assert dict(tag("quikly"))["quikly"] == "ADV"


def test_generated_captions_are_varied_known_english():
    rng = np.random.default_rng(0)
    texts, unknown, subjects = [], 0, set()
    for _ in range(200):
        spec = sample_spec(rng)
        three = captions(spec, rng)
        assert len(three) == 3 and len({t.lower().rstrip(".") for t in three}) == 3
        texts += three
    for text in texts:
        assert "#" not in text and "\n" not in text and "  " not in text
        words = tokenize(text)
        assert 2 <= len(words) <= 70
        unknown += sum(not known(w) for w in words)
        subjects.update({words[0], " ".join(words[:2])})
        line = format_caption_line(Caption(text, token_field(text)))
        assert parse_caption_line(line).tokens == token_field(text)
    assert unknown / sum(len(tokenize(t)) for t in texts) < 0.01  # only typos fall outside the lexicon
    assert len({w for t in texts for w in tokenize(t)}) > 300
    assert {"a person", "someone", "the man", "a woman"} <= subjects


def test_captions_name_the_side_that_moves():
    for side, other in (("left", "right"), ("right", "left")):
        spec = MotionSpec((Segment(Action("stand"), Action("wave", side), None, 3.0, (0.2, 2.8)),))
        rng = np.random.default_rng(1)
        for text in [t for _ in range(30) for t in captions(spec, rng)]:  # typos never touch side words
            words = tokenize(text)
            assert side in words and other not in words, text


def test_counts_and_sequences_are_spoken():
    spec = MotionSpec((
        Segment(Action("walk", "forward"), duration=3.0),
        Segment(Action("jump", "in_place", reps=3), duration=4.0),
    ))
    rng = np.random.default_rng(2)
    texts = [t.lower() for _ in range(10) for t in captions(spec, rng)]
    assert any(re.search(r"\b(three|3) times\b|three jumps", t) for t in texts)
    assert any(re.search(r"\b(then|after|before|first)\b", t) for t in texts)
    walking = [bool(re.search(r"\b(walk|walks|walking|steps?|strolls?|moves|marches|hurries)\b", t)) for t in texts]
    assert np.mean(walking) > 0.9  # all but the odd typo


def test_mirrored_captions_swap_sides_and_turning_direction():
    assert mirror_text("a man turns left and walks in a clockwise circle") == (
        "a man turns right and walks in a counterclockwise circle")
    assert mirror_text("Waves the Right hand, counterclockwise") == "Waves the Left hand, clockwise"
    assert mirror_text(mirror_text("someone hops on the left foot")) == "someone hops on the left foot"
