"""A small deterministic part-of-speech tagger for the captions we generate, writing HumanML3D's token field.

HumanML3D's text_process.py runs spaCy and keeps, for every alphabetic token, `word/POS` with the word lower-cased
and NOUN/VERB tokens replaced by their lemma (universal POS tags). We reproduce that format without spaCy:
1. tokenise: lower-case, split on anything that is not a letter (digits and punctuation are dropped, as the
   reference drops non-alphabetic tokens);
2. look each word up in a lexicon of the words our caption generator can produce (tag + lemma);
3. resolve the ambiguous ones by context: "left"/"right" are ADJ before a body part, NOUN after a determiner,
   ADV otherwise; verb/noun words ("wave", "jump", "squat", "turn", ...) are NOUN after a determiner, adjective or
   number and VERB otherwise; particles ("up", "down", "around", ...) are ADP before a determiner or pronoun and
   right after a verb, ADV otherwise;
4. unknown words (typos) get a suffix guess: -ly ADV, -ing VERB, otherwise NOUN.
"""

from __future__ import annotations

import re

_WORD = re.compile(r"[a-z]+")

# Closed classes.
_FIXED = {
    "DET": "a an the his her their its this each every another some both any all no",
    "PRON": "he she they it someone somebody something himself herself themselves them him one which that what",
    "ADP": "with to in on at from of for into across behind above toward towards through like near by onto under",
    "CCONJ": "and or but",
    "SCONJ": "while as if because until",
    "AUX": "is are was be being been",
    "PART": "not",
    "NUM": "two three four five six seven eight nine ten ninety hundred eighty",
    "INTJ": "hello goodbye yes",
}
_ADVERBS = (
    "forward forwards backward backwards back sideways slowly quickly fast then finally first again twice once still "
    "straight ahead slightly deeply together energetically vigorously briskly rapidly gently clockwise "
    "counterclockwise anticlockwise also repeatedly overhand outward apart there politely enthusiastically hurriedly "
    "leisurely lightly widely halfway upward upwards afterwards afterward later next briefly carefully casually "
    "forth calmly softly firmly swiftly steadily gradually immediately suddenly cheerfully happily excitedly continuously "
    "alternately simultaneously high low sideway just very so little bit far straightly overhead inward"
)
_ADJECTIVES = (
    "slow quick small big large deep shallow full few several short long light wide polite seated standing other "
    "same entire whole half brief gentle steady sharp single circular straight low tall loud sudden quiet upright "
    "fast heavy slight handed tiny huge relaxed deeper higher lower wider bigger smaller"
)
# Nouns: singular lemma -> extra surface forms (plural, irregular).
_NOUNS = {
    "person": "people persons", "man": "men", "woman": "women", "figure": "figures", "human": "humans",
    "individual": "individuals", "guy": "guys", "hand": "hands", "arm": "arms", "leg": "legs", "foot": "feet",
    "knee": "knees", "head": "heads", "shoulder": "shoulders", "chest": "", "mouth": "", "face": "", "toe": "toes",
    "waist": "", "torso": "", "body": "bodies", "side": "sides", "step": "steps", "circle": "circles",
    "time": "times", "squat": "squats", "jump": "jumps", "punch": "punches", "clap": "claps", "wave": "waves",
    "chair": "chairs", "seat": "", "cup": "cups", "ball": "balls", "object": "objects", "pace": "", "line": "",
    "turn": "turns", "bow": "bows", "sip": "", "motion": "motions", "air": "", "degree": "degrees", "place": "",
    "moment": "", "front": "", "way": "", "direction": "", "fist": "fists", "agreement": "", "t": "",
    "airplane": "airplanes", "wing": "wings", "floor": "", "ground": "", "left": "", "right": "", "jog": "",
    "walk": "walks", "run": "runs", "hop": "hops", "elbow": "elbows", "hip": "hips", "back": "", "throw": "throws",
    "swing": "swings", "kick": "kicks", "drink": "drinks", "spot": "", "while": "", "bit": "", "stance": "",
    "upper": "", "gesture": "gestures", "greeting": "", "lunge": "lunges", "half": "", "pose": "", "position": "",
    "posture": "", "direction": "", "path": "", "loop": "", "row": "", "knuckle": "knuckles", "thing": "things",
    "stool": "", "bench": "", "height": "", "reverse": "", "applause": "",
}
# Verbs: lemma -> inflected forms (third person, -ing, past/participle), irregular ones spelled out.
_VERBS = {
    "walk": "", "wave": "", "jump": "", "run": "ran", "jog": "", "turn": "", "squat": "", "sit": "sat",
    "stand": "stood", "kneel": "knelt", "hop": "", "raise": "", "lift": "", "punch": "", "clap": "",
    "reach": "", "throw": "threw thrown", "swing": "swung", "bring": "brought", "stretch": "", "cross": "",
    "bend": "bent", "lean": "", "twist": "", "bow": "", "nod": "", "look": "", "take": "took taken", "move": "",
    "step": "", "stroll": "", "hurry": "", "back": "", "sidestep": "", "shuffle": "", "trot": "", "sprint": "",
    "dash": "", "make": "made", "rotate": "", "pivot": "", "spin": "spun", "leap": "leapt", "do": "does did done",
    "balance": "", "crouch": "", "lower": "", "get": "got", "rise": "rose risen", "go": "goes went gone",
    "drop": "", "stay": "", "remain": "", "rest": "", "greet": "", "hold": "held", "put": "", "box": "",
    "shadowbox": "", "applaud": "", "extend": "", "pitch": "", "drink": "drank", "eat": "ate eaten",
    "cover": "", "spread": "", "fold": "", "tilt": "", "glance": "", "straighten": "", "come": "came",
    "stop": "", "pause": "", "wait": "", "keep": "kept", "pace": "", "circle": "", "march": "", "perform": "",
    "repeat": "", "touch": "", "stretching": "", "skip": "", "return": "", "shake": "shook", "swivel": "",
    "jab": "", "toss": "", "sway": "", "proceed": "", "start": "", "begin": "began", "finish": "", "bounce": "",
    "travel": "", "head": "", "salute": "", "signal": "", "gesture": "", "lunge": "", "cheer": "",
    "face": "", "end": "", "seat": "", "hug": "", "scratch": "", "give": "gave given", "point": "", "open": "",
    "alternate": "", "greet": "",
}
# Words that are VERB unless a determiner, adjective or number precedes them (then NOUN).
_VERB_OR_NOUN = {
    "wave", "waves", "walk", "walks", "jump", "jumps", "squat", "squats", "punch", "punches", "clap", "claps",
    "turn", "turns", "bow", "bows", "step", "steps", "jog", "run", "runs", "hop", "hops", "sip", "swing",
    "swings", "throw", "throws", "circle", "circles", "rest", "drink", "drinks", "seat", "lunge", "lunges",
    "pace", "head", "face", "gesture",
}
_PARTICLES = {"up", "down", "around", "over", "out", "off", "about", "after", "before"}
_BODY_PARTS = {
    "hand", "hands", "arm", "arms", "foot", "feet", "leg", "legs", "knee", "knees", "side", "shoulder",
    "shoulders", "fist", "fists", "elbow", "elbows", "hip", "hips", "toe", "toes",
}
_NOUN_CUES = {"DET", "ADJ", "NUM"}


def _regular_forms(lemma: str) -> list[str]:
    doubled = {"run", "hop", "jog", "sit", "step", "clap", "nod", "stop", "get", "put", "drop", "skip", "spin", "swim",
               "shrug", "tap", "grab", "squat", "jab", "begin", "trot", "shop", "plan", "dip"}
    if lemma.endswith("e") and not lemma.endswith(("ee", "ye", "oe")):
        ing = lemma[:-1] + "ing"
    elif lemma in doubled:
        ing = lemma + lemma[-1] + "ing"
    else:
        ing = lemma + "ing"
    if lemma.endswith(("s", "sh", "ch", "x", "z", "o")):
        third = lemma + "es"
    elif lemma.endswith("y") and lemma[-2] not in "aeiou":
        third = lemma[:-1] + "ies"
    else:
        third = lemma + "s"
    if lemma.endswith("e"):
        past = lemma + "d"
    elif lemma.endswith("y") and lemma[-2] not in "aeiou":
        past = lemma[:-1] + "ied"
    elif lemma in doubled:
        past = lemma + lemma[-1] + "ed"
    else:
        past = lemma + "ed"
    return [lemma, third, ing, past]


def verb_forms(lemma: str) -> tuple[str, str]:
    """(third person singular, -ing form) of a verb lemma."""
    forms = _regular_forms(lemma)
    if lemma == "do":
        return "does", "doing"
    if lemma == "go":
        return "goes", "going"
    if lemma == "lie":
        return "lies", "lying"
    return forms[1], forms[2]


def _build_lexicon() -> dict[str, tuple[str, str]]:
    lexicon: dict[str, tuple[str, str]] = {}
    for lemma, extra in _VERBS.items():
        for form in _regular_forms(lemma) + extra.split():
            lexicon.setdefault(form, ("VERB", lemma))
    for lemma, extra in _NOUNS.items():
        for form in [lemma] + extra.split():
            if form in lexicon and form not in _VERB_OR_NOUN and lexicon[form][0] == "VERB":
                continue
            lexicon.setdefault(form, ("NOUN", lemma))
    for word in _ADJECTIVES.split():
        lexicon[word] = ("ADJ", word)
    for word in _ADVERBS.split():
        lexicon[word] = ("ADV", word)
    for tag, words in _FIXED.items():
        for word in words.split():
            lexicon[word] = (tag, word)
    for word in ("crossed", "raised", "folded", "stretched", "extended", "held", "bent", "lowered", "lifted", "tucked"):
        lexicon[word] = ("VERB", lexicon.get(word, ("VERB", word))[1])
    lexicon["seated"] = ("ADJ", "seated")
    lexicon["standing"] = ("VERB", "stand")
    lexicon["kneeling"] = ("VERB", "kneel")
    for word in _PARTICLES:
        lexicon.setdefault(word, ("ADV", word))
    lexicon["after"] = ("ADP", "after")
    lexicon["before"] = ("ADP", "before")
    lexicon["one"] = ("NUM", "one")
    lexicon["then"] = ("ADV", "then")
    return lexicon


LEXICON = _build_lexicon()
_VERB_FORMS = {form: lemma for lemma, extra in _VERBS.items() for form in _regular_forms(lemma) + extra.split()}
_NOUN_FORMS = {form: lemma for lemma, extra in _NOUNS.items() for form in [lemma] + extra.split()}
_ADJECTIVE_SET = frozenset(_ADJECTIVES.split())


def tokenize(text: str) -> list[str]:
    return _WORD.findall(text.lower())


def _guess(word: str) -> tuple[str, str]:
    if word.endswith("ly"):
        return "ADV", word
    if word.endswith("ing") and len(word) > 5:
        return "VERB", word[:-3]
    if word.endswith("s") and len(word) > 3 and not word.endswith("ss"):
        return "NOUN", word[:-1]
    return "NOUN", word


def tag(text: str) -> list[tuple[str, str]]:
    """(word or lemma, universal POS) for every alphabetic token, HumanML3D-style (NOUN/VERB lemmatised)."""
    words = tokenize(text)
    tags: list[tuple[str, str]] = []
    for index, word in enumerate(words):
        previous = tags[-1][1] if tags else None
        previous_word = words[index - 1] if index else None
        following = words[index + 1] if index + 1 < len(words) else None
        pos, lemma = LEXICON.get(word) or _guess(word)
        if word in ("left", "right"):
            if following in _BODY_PARTS:
                pos, lemma = "ADJ", word
            elif previous == "DET":
                pos, lemma = "NOUN", word
            else:
                pos, lemma = "ADV", word
        elif word in _VERB_OR_NOUN:
            if previous in _NOUN_CUES or previous_word in ("of", "with", "for"):
                pos, lemma = "NOUN", _NOUN_FORMS.get(word, word)
            else:
                pos, lemma = "VERB", _VERB_FORMS.get(word, word)
        elif pos == "ADV" and previous == "DET" and word in _ADJECTIVE_SET:
            pos = "ADJ"
        elif word in _PARTICLES:
            following_tag = LEXICON.get(following, ("", ""))[0] if following else ""
            if word in ("after", "before"):
                pos = "ADP"
            elif following_tag in ("DET", "PRON") or previous == "VERB":
                pos = "ADP"
            else:
                pos = "ADV"
            lemma = word
        elif word == "to" and following in _VERBS and (following not in _NOUNS or following in _VERB_OR_NOUN):
            pos = "PART"
        elif word == "that":
            pos = "PRON" if previous_word in ("after", "of", "like") else "DET"
        tags.append((lemma if pos in ("NOUN", "VERB") else word, pos))
    return tags


def token_field(text: str) -> list[str]:
    """The `word/POS` tokens of a caption line."""
    return [f"{word}/{pos}" for word, pos in tag(text)]


def known(word: str) -> bool:
    return word in LEXICON
