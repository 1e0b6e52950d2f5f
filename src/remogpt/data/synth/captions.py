"""Natural English captions from a motion's structured description (so text and motion always agree).

Each action has a bank of phrasings (verb + rest, sometimes two coordinated verbs), with variants for its
modifiers: manner adverbs for speed/amplitude ("slowly", "energetically", "deeply"), counts ("twice", "three times",
"does three squats"), directions and sides ("to the left", "his right hand", "both arms"). A segment combines its
base, arm and torso phrases in one of several forms ("walks forward while waving his right hand", "waves his right
hand while walking forward", "walks forward with his arms crossed", "while walking forward, a person waves");
segments are joined with connectives ("then", "and then", "after that", "before ...ing", "first ... then",
"and finally"). Subjects vary ("a person", "someone", "the man", "a woman", "the figure", ...), and so do
possessives and pronouns. A few captions are terse ("walking forward then waving") and a few carry a typo.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .actions import Action, MotionSpec, Segment
from .tagger import verb_forms

# (subject, gender, weight). Gender n(eutral), m, f decides possessives and pronouns.
SUBJECTS = (
    ("a person", "n", 3.0), ("the person", "n", 1.2), ("someone", "n", 1.5), ("a man", "m", 1.6),
    ("the man", "m", 0.8), ("a woman", "f", 1.0), ("the woman", "f", 0.4), ("the figure", "n", 0.6),
    ("a figure", "n", 0.3), ("a human", "n", 0.3), ("the individual", "n", 0.15), ("somebody", "n", 0.3),
    ("a guy", "m", 0.2),
)
_POSSESSIVE_OF = {
    "he": {"his": 0.8, "the": 0.2}, "she": {"her": 0.8, "the": 0.2}, "they": {"their": 0.75, "the": 0.25},
    "the person": {"his": 0.45, "their": 0.25, "the": 0.3},
}
_PERSON_OF = {"his": "he", "her": "she", "their": "they"}
_PRONOUN = {"m": {"he": 1.0}, "f": {"she": 1.0}, "n": {"he": 0.45, "they": 0.25, "she": 0.1, "the person": 0.2}}
_OBJECT = {"he": "him", "she": "her", "they": "them", "the person": "them"}
_REFLEXIVE = {"he": "himself", "she": "herself", "they": "themselves", "the person": "themselves"}
NUMBER_WORDS = {2: "two", 3: "three", 4: "four", 5: "five", 6: "six"}
TERSE_RATE = 0.07
TYPO_RATE = 0.04
PROGRESSIVE_RATE = 0.12


def _pick(rng: np.random.Generator, options):
    """A weighted choice from {item: weight} or a uniform one from a list."""
    if isinstance(options, dict):
        items = list(options)
        weights = np.array([options[i] for i in items], dtype=np.float64)
        return items[int(rng.choice(len(items), p=weights / weights.sum()))]
    return options[int(rng.integers(len(options)))]


@dataclass
class Voice:
    """Who the caption is about and the words that refer back to them."""

    subject: str
    possessive: str
    pronoun: str
    objective: str
    reflexive: str

    @classmethod
    def sample(cls, rng: np.random.Generator) -> "Voice":
        subject, gender, _ = SUBJECTS[int(rng.choice(len(SUBJECTS), p=_SUBJECT_P))]
        pronoun = _pick(rng, _PRONOUN[gender])
        possessive = _pick(rng, _POSSESSIVE_OF[pronoun])
        person = _PERSON_OF.get(possessive, pronoun)  # "him"/"himself" agree with "his"
        return cls(subject, possessive, pronoun, _OBJECT[person], _REFLEXIVE[person])


_SUBJECT_P = np.array([w for _, _, w in SUBJECTS]) / sum(w for _, _, w in SUBJECTS)


@dataclass
class VP:
    verb: str  # lemma
    rest: str = ""
    pre: str = ""  # an adverb before the verb ("slowly walks")

    def render(self, form: str) -> str:
        third, ing = verb_forms(self.verb)
        word = {"third": third, "ing": ing, "base": self.verb}[form]
        return " ".join(w for w in (self.pre, word, self.rest) if w)


@dataclass
class Clause:
    vps: list[VP]
    tail: str = ""  # non-finite continuation ("while waving his hand", "with his arms crossed")
    front: str = ""  # an optional fronted phrase ("while walking forward") for sentence-initial use
    front_main: "Clause | None" = field(default=None, repr=False)

    def render(self, form: str) -> str:
        parts = [vp.render(form) for vp in self.vps]
        text = parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + " and " + parts[-1]
        return f"{text} {self.tail}".strip() if self.tail else text


# ------------------------------------------------------------------------------------------------ phrase banks
def _fill(template: str, voice: Voice, side: str = "", **extra) -> str:
    other = {"left": "right", "right": "left"}.get(side, "")
    return template.format(p=voice.possessive, s=side, o=voice.objective, r=voice.reflexive, other=other, **extra)


def _vps(template: str, voice: Voice, side: str = "", **extra) -> list[VP]:
    """'verb|rest + verb|rest' -> VPs."""
    vps = []
    for piece in _fill(template, voice, side, **extra).split(" + "):
        verb, _, rest = piece.partition("|")
        vps.append(VP(verb.strip(), " ".join(rest.split())))
    return vps


SPEED_WORDS = {
    "slow": {"pre": ["slowly"], "post": ["slowly", "at a slow pace", "gently"]},
    "fast": {"pre": ["quickly", "rapidly"], "post": ["quickly", "fast", "rapidly", "at a fast pace", "briskly"]},
}
AMPLITUDE_WORDS = {
    "small": {"pre": ["slightly"], "post": ["slightly", "a little"]},
    "large": {"pre": [], "post": ["a lot"]},
}
# Per action, how a large movement is said.
LARGE_WORDS = {
    "wave": {"pre": ["energetically", "vigorously"], "post": ["energetically", "vigorously", "enthusiastically"]},
    "raise": {"pre": [], "post": ["high", "all the way up"]},
    "swing": {"pre": ["vigorously"], "post": ["widely", "vigorously"]},
    "bend_forward": {"pre": ["deeply"], "post": ["deeply", "all the way"]},
    "squat": {"pre": ["deeply"], "post": ["deeply"]},
    "bow": {"pre": ["deeply"], "post": ["deeply", "low"]},
    "jump": {"pre": [], "post": ["high", "very high"]},
    "lean": {"pre": [], "post": ["far", "a lot"]},
    "twist": {"pre": [], "post": ["far", "a lot"]},
}

_BASE = {
    ("stand", ""): ["stand|still", "stand|in place", "stand|still without moving", "stay|still", "remain|standing",
                    "stand|there", "stand|still for a while"],
    ("stand", "pause"): ["stop", "pause|for a moment", "stand|still for a moment", "wait|for a moment",
                         "stand|in place briefly", "stop + stand|still"],
    ("walk", "forward"): ["walk|forward", "walk|forwards", "walk|straight ahead", "walk|ahead",
                          "walk|forward in a straight line", "take|a few steps forward", "move|forward", "walk|",
                          "step|forward", "walk|straight", "walk|forward a few steps"],
    ("walk", "forward", "slow"): ["stroll|forward", "stroll|", "walk|forward at a slow pace", "walk|slowly forward",
                                  "take|slow steps forward"],
    ("walk", "forward", "fast"): ["walk|quickly forward", "hurry|forward", "walk|briskly forward",
                                  "walk|forward at a fast pace", "march|forward", "walk|fast"],
    ("walk", "backward"): ["walk|backward", "walk|backwards", "walk|back", "step|backward",
                           "take|a few steps backward", "move|backwards", "back|up", "step|back",
                           "walk|backwards a few steps"],
    ("walk", "left"): ["walk|sideways to the left", "walk|to the left sideways", "step|sideways to the left",
                       "sidestep|to the left", "shuffle|sideways to {p} left", "move|sideways to the left",
                       "take|a few steps sideways to the left", "walk|left sideways", "sidestep|left"],
    ("jog", ""): ["jog|forward", "jog|", "jog|in a straight line", "jog|ahead", "trot|forward",
                  "jog|at a steady pace", "jog|forward a few steps", "run|slowly forward"],
    ("run", ""): ["run|forward", "run|", "run|straight ahead", "run|ahead", "run|forward in a straight line"],
    ("run", "", "fast"): ["sprint|forward", "sprint|", "dash|forward", "run|fast", "run|forward very fast"],
    ("turn", "left", 90): ["turn|{d}", "turn|to the {d}", "turn|to {p} {d}", "make|a {d} turn", "rotate|to the {d}",
                           "pivot|to the {d}", "turn|ninety degrees to the {d}", "turn|{d} in place"],
    ("turn", "left", 180): ["turn|around", "turn|around to the {d}", "turn|all the way around", "turn|back",
                            "do|a half turn to the {d}", "turn|around in place", "turn|to face the other way",
                            "turn|around over {p} {d} shoulder"],
    ("circle", "clockwise"): ["walk|in a circle clockwise", "walk|in a clockwise circle", "walk|around in a circle",
                              "walk|in a circle", "circle|around clockwise", "make|a clockwise circle",
                              "walk|a full circle clockwise", "walk|in a circle to the right",
                              "walk|around in a circle turning right"],
    ("circle", "counterclockwise"): ["walk|in a circle counterclockwise", "walk|in a counterclockwise circle",
                                     "walk|around in a circle", "walk|in a circle", "circle|around counterclockwise",
                                     "make|an anticlockwise circle", "walk|a full circle counterclockwise",
                                     "walk|in a circle to the left", "walk|around in a circle turning left"],
    ("jump", "in_place"): ["jump|", "jump|in place", "jump|up", "jump|straight up", "leap|up", "jump|on the spot",
                           "jump|up in the air"],
    ("jump", "in_place", "once"): ["do|a jump", "do|a jump in place"],
    ("jump", "in_place", "many"): ["jump|up and down", "do|{N} jumps", "do|{N} jumps in place"],
    ("jump", "in_place", "large"): ["jump|high", "jump|up high", "leap|high into the air"],
    ("jump", "in_place", "small"): ["jump|lightly", "do|a small jump", "jump|a little"],
    ("jump", "forward"): ["jump|forward", "leap|forward", "jump|ahead", "jump|forward with both feet",
                          "jump|forwards"],
    ("jump", "forward", "once"): ["do|a forward jump", "do|a jump forward"],
    ("jump", "forward", "many"): ["do|{N} jumps forward", "jump|forward {N} times"],
    ("jump", "forward", "large"): ["leap|far forward", "do|a long jump forward", "jump|far forward"],
    ("jump", "forward", "small"): ["jump|a little forward", "do|a small jump forward"],
    ("hop", "left"): ["hop|on {p} {s} foot", "hop|on {p} {s} leg", "hop|on one foot", "hop|on one leg",
                      "jump|on {p} {s} foot", "hop|on the {s} foot", "balance|on {p} {s} leg + hop|",
                      "lift|{p} {other} foot + hop|on {p} {s} foot"],
    ("squat", ""): ["squat|", "squat|down", "squat|down + stand|back up", "crouch|down", "bend|{p} knees + squat|down",
                    "lower|{r} into a squat"],
    ("squat", "", "once"): ["do|a squat"],
    ("squat", "", "many"): ["do|{N} squats", "squat|down and up {N} times"],
    ("squat", "", "large"): ["squat|down low", "squat|all the way down", "do|a deep squat"],
    ("squat", "", "small"): ["do|a half squat", "squat|slightly", "bend|{p} knees a little"],
    ("sit_down", ""): ["sit|down", "sit|down on a chair", "take|a seat", "sit|down on a seat",
                       "lower|{r} into a chair", "sit|", "sit|down on something", "sit|down on a bench",
                       "sit|down on a stool"],
    ("sit", ""): ["sit|still", "remain|seated", "stay|seated", "rest|in the chair", "sit|for a moment",
                  "stay|sitting"],
    ("stand_up", ""): ["stand|up", "get|up", "stand|back up", "rise|from the chair", "get|up from the chair",
                       "rise|to {p} feet", "get|back up", "stand|up again"],
    ("kneel_down", "left"): ["kneel|down on {p} {s} knee", "kneel|on {p} {s} knee", "get|down on one knee",
                             "kneel|down", "go|down on {p} {s} knee", "drop|to one knee", "kneel|down on one knee",
                             "lower|{r} onto {p} {s} knee"],
    ("kneel", "left"): ["stay|kneeling", "remain|on one knee", "kneel|there", "stay|down on one knee"],
    ("get_up", "left"): ["get|up", "stand|up", "stand|back up", "rise|to {p} feet", "get|back up",
                         "get|up from the floor", "get|up off {p} knee"],
}

_ARM_SINGLE = {
    "wave": ["wave|with {p} {s} hand", "wave|{p} {s} hand", "wave|{p} {s} arm", "wave|hello with {p} {s} hand",
             "wave|goodbye with {p} {s} hand", "greet|someone with {p} {s} hand", "raise|{p} {s} hand + wave|",
             "move|{p} {s} hand from side to side above {p} shoulder", "wave|at someone with the {s} hand",
             "give|a wave with {p} {s} hand", "wave|{p} {s} hand in the air"],
    "raise": ["raise|{p} {s} hand", "raise|{p} {s} arm", "lift|{p} {s} arm up", "raise|{p} {s} arm above {p} head",
              "put|{p} {s} hand up", "hold|{p} {s} arm up", "reach|up with {p} {s} hand",
              "raise|{p} {s} hand in the air", "lift|{p} {s} hand over {p} head"],
    "raise:large": ["raise|{p} {s} arm high above {p} head", "stretch|{p} {s} arm straight up",
                    "reach|high up with {p} {s} hand"],
    "raise:small": ["raise|{p} {s} arm to shoulder height", "lift|{p} {s} arm in front of {o}",
                    "raise|{p} {s} arm forward"],
    "raise:many": ["raise + lower|{p} {s} arm {n}", "raise|{p} {s} arm {n}", "lift|{p} {s} hand up {n}"],
    "punch": ["punch|with {p} {s} hand", "punch|forward with {p} {s} fist", "punch|with {p} {s} fist",
              "jab|with {p} {s} arm", "punch|the air with {p} {s} hand", "punch|straight ahead with the {s} fist"],
    "punch:once": ["throw|a punch with {p} {s} hand"],
    "punch:many": ["throw|{N} punches with {p} {s} hand", "punch|{N} times with {p} {s} fist"],
    "reach_forward": ["reach|forward with {p} {s} hand", "reach|out with {p} {s} arm", "extend|{p} {s} arm forward",
                      "reach|for something in front of {o}", "stretch|{p} {s} arm out in front",
                      "reach|out in front with the {s} hand", "point|forward with {p} {s} arm"],
    "throw": ["throw|something with {p} {s} hand", "throw|a ball with {p} {s} hand",
              "make|a throwing motion with {p} {s} arm", "throw|an object overhand with {p} {s} arm",
              "pitch|a ball with the {s} hand", "toss|something with {p} {s} hand", "throw|with {p} {s} arm"],
    "throw:many": ["throw|{N} balls with {p} {s} hand"],
    "swing": ["swing|{p} {s} arm back and forth", "swing|{p} {s} arm", "swing|{p} {s} arm forward and back"],
    "hand_to_mouth": ["bring|{p} {s} hand to {p} mouth", "drink|from a cup in {p} {s} hand",
                      "take|a sip of something with {p} {s} hand", "put|{p} {s} hand to {p} mouth",
                      "eat|something with {p} {s} hand", "raise|{p} {s} hand to {p} face",
                      "drink|something with the {s} hand", "lift|a cup to {p} mouth with {p} {s} hand"],
    "stretch_out": ["stretch|{p} {s} arm out to the side", "hold|{p} {s} arm out", "extend|{p} {s} arm sideways",
                    "stretch|out {p} {s} arm", "raise|{p} {s} arm out to the side",
                    "hold|{p} {s} arm straight out to the side"],
}
_ARM_BOTH = {
    "wave": ["wave|with both hands", "wave|both arms", "wave|both hands in the air", "wave|{p} arms above {p} head",
             "raise|both hands + wave|", "wave|hello with both hands"],
    "raise": ["raise|both arms", "raise|both hands", "put|both hands up", "raise|{p} arms above {p} head",
              "lift|both arms up", "hold|both arms up in the air", "raise|{p} hands in the air",
              "reach|up with both hands", "raise|both arms overhead"],
    "raise:large": ["raise|both arms high above {p} head", "stretch|both arms straight up"],
    "raise:small": ["raise|both arms to shoulder height", "lift|both arms in front of {o}"],
    "raise:many": ["raise + lower|both arms {n}", "raise|both arms {n}"],
    "punch": ["punch|with both hands", "punch|with both fists", "punch|alternating left and right",
              "throw|punches with both hands", "box|", "shadowbox|", "punch|the air with both fists"],
    "punch:many": ["throw|{N} punches", "throw|{N} punches with both fists"],
    "clap": ["clap|{p} hands", "clap|", "clap|{p} hands together", "applaud|", "clap|in front of {p} chest",
             "bring|{p} hands together + clap|"],
    "clap:many": ["clap|{p} hands {N} times", "clap|{N} times"],
    "reach_forward": ["reach|forward with both hands", "extend|both arms in front of {o}", "reach|out with both arms",
                      "stretch|both arms forward", "hold|both arms out in front"],
    "throw": ["throw|something with both hands", "throw|a ball over {p} head with both hands",
              "throw|an object forward with both arms", "make|a throwing motion with both arms"],
    "swing": ["swing|{p} arms back and forth", "swing|both arms", "swing|{p} arms forward and backward",
              "swing|both arms back and forth"],
    "hand_to_mouth": ["bring|both hands to {p} mouth", "cover|{p} mouth with both hands",
                      "drink|from a cup held in both hands", "raise|both hands to {p} face"],
    "stretch_out": ["stretch|{p} arms out to the sides", "hold|{p} arms out like a t", "spread|{p} arms wide",
                    "extend|both arms out to the sides", "hold|{p} arms out like airplane wings",
                    "stretch|both arms out", "open|{p} arms wide"],
    "cross_arms": ["cross|{p} arms", "fold|{p} arms", "cross|{p} arms over {p} chest", "fold|{p} arms across {p} chest",
                   "cross|{p} arms in front of {o}"],
}
# Arm postures held during another action, as a "with ..." tail.
_WITH_SINGLE = {
    "raise": ["with {p} {s} arm raised", "with {p} {s} hand up", "with {p} {s} hand held up"],
    "stretch_out": ["with {p} {s} arm stretched out", "with {p} {s} arm held out to the side"],
    "reach_forward": ["with {p} {s} arm extended forward"],
    "hand_to_mouth": ["with {p} {s} hand at {p} mouth"],
}
_WITH_BOTH = {
    "raise": ["with {p} arms raised", "with both hands up", "with {p} arms up in the air"],
    "stretch_out": ["with {p} arms stretched out", "with {p} arms out to the sides", "with arms spread wide",
                    "with {p} arms held out like a t"],
    "cross_arms": ["with {p} arms crossed", "with arms folded", "with {p} arms folded across {p} chest"],
    "reach_forward": ["with both arms held out in front"],
}
_TORSO = {
    "bend_forward": ["bend|forward", "bend|over", "bend|down", "bend|at the waist", "bend|forward + straighten|up again",
                     "bend|over + come|back up", "bend|forward at the waist"],
    "bend_forward:large": ["bend|down to touch {p} toes", "bend|all the way down", "bend|deeply forward"],
    "bend_forward:small": ["bend|forward slightly", "bend|slightly forward"],
    "lean": ["lean|to the {d}", "lean|{d}", "tilt|{p} upper body to the {d}", "lean|to {p} {d} side",
             "bend|sideways to the {d}", "lean|over to the {d}", "tilt|{p} torso to the {d}"],
    "twist": ["twist|{p} torso to the {d}", "twist|to the {d}", "turn|{p} upper body to the {d}",
              "rotate|{p} torso to the {d}", "twist|at the waist to the {d}", "twist|{p} upper body {d}"],
    "bow": ["bow|", "bow|forward", "take|a bow", "bow|politely", "bow|{p} head and upper body", "bow|down",
            "give|a bow"],
    "bow:large": ["bow|deeply", "make|a deep bow"],
    "bow:small": ["bow|slightly", "give|a small bow", "do|a slight bow"],
    "nod": ["nod|", "nod|{p} head", "nod|{p} head up and down", "nod|in agreement", "nod|yes"],
    "look_around": ["look|around", "look|left and right", "look|to the left and to the right",
                    "turn|{p} head to look around", "glance|around", "look|from side to side", "look|around {o}",
                    "turn|{p} head left and right"],
}
# How a held posture is mentioned when an arm/torso action happens in it.
_POSTURE_TAIL = {
    "stand": ["while standing", "while standing still", "in place"],
    "sit": ["while seated", "while sitting", "while sitting down", "from a seated position", "in the chair"],
    "kneel": ["while kneeling", "while on one knee", "still kneeling", "while kneeling down"],
}
COUNTED = frozenset({"jump", "hop", "squat", "punch", "clap", "nod", "bow", "bend_forward", "throw", "swing", "raise",
                     "hand_to_mouth", "twist"})


def count_adverb(rng: np.random.Generator, reps: int) -> str:
    if reps == 2:
        return _pick(rng, {"twice": 0.7, "two times": 0.3})
    if rng.random() < 0.1:
        return f"{reps} times"  # digits are dropped from the token field, as in HumanML3D
    if reps >= 3 and rng.random() < 0.12:
        return _pick(rng, ["a few times", "several times", "repeatedly"])
    return f"{NUMBER_WORDS[reps]} times"


def _bank_key(action: Action) -> tuple:
    variant = action.variant
    if action.name in ("walk",) and variant == "right":
        variant = "left"  # phrasings are written for the left and re-sided below
    if action.name in ("turn", "hop", "kneel_down", "kneel", "get_up") and variant == "right":
        variant = "left"
    return (action.name, variant)


def _side_swap(text: str, action: Action) -> str:
    """Phrasings are written for 'left'; turn them to the action's actual side."""
    if action.variant != "right":
        return text
    placeholder = "\x00"
    return text.replace("left", placeholder).replace("right", "left").replace(placeholder, "right")


def base_phrases(action: Action, voice: Voice, rng: np.random.Generator, pause: bool = False) -> tuple[list[VP], set]:
    """VPs for a base action and what they already express of its modifiers ({"count", "manner"})."""
    key = _bank_key(action)
    if action.name == "stand":
        key = ("stand", "pause") if pause else ("stand", "")
    options = list(_BASE.get(key, []))
    said: set = set()
    if action.name == "turn":
        options = _BASE[("turn", "left", action.angle or 90)]
    extra_keys = []
    if action.speed != "normal":
        extra_keys.append((key + (action.speed,), "manner"))
    if action.amplitude != "normal":
        extra_keys.append((key + (action.amplitude,), "manner"))
    if action.name in COUNTED:
        extra_keys.append((key + ("once" if action.reps == 1 else "many",), "count"))
    special = [(o, kind) for k, kind in extra_keys for o in _BASE.get(k, [])]
    if special and rng.random() < 0.6:
        template, kind = _pick(rng, special)
        said = {kind}
    else:
        template = _pick(rng, options)
    direction = action.variant if action.variant in ("left", "right") else ""
    template = template.replace("{d}", "left")
    template = _side_swap(template.replace("{s}", "left"), action) if action.variant in ("left", "right") else template
    return _vps(template, voice, side=direction, N=NUMBER_WORDS.get(action.reps, ""), n=""), said


def _arm_template(action: Action, rng: np.random.Generator) -> tuple[str, set]:
    bank = _ARM_BOTH if action.variant == "both" else _ARM_SINGLE
    name = action.name
    special = []
    if action.amplitude in ("small", "large"):
        special += [(t, "manner") for t in bank.get(f"{name}:{action.amplitude}", [])]
    if name in COUNTED:
        special += [(t, "count") for t in bank.get(f"{name}:{'once' if action.reps == 1 else 'many'}", [])]
    if special and rng.random() < 0.55:
        template, kind = _pick(rng, special)
        return template, {kind}
    return _pick(rng, bank[name]), set()


def arm_phrases(action: Action, voice: Voice, rng: np.random.Generator) -> tuple[list[VP], set]:
    template, said = _arm_template(action, rng)
    side = action.variant if action.variant in ("left", "right") else ""
    n = count_adverb(rng, action.reps) if action.reps > 1 else ""
    vps = _vps(template, voice, side=side, N=NUMBER_WORDS.get(action.reps, ""), n=n)
    return vps, said


def with_phrase(action: Action, voice: Voice, rng: np.random.Generator) -> str:
    bank = _WITH_BOTH if action.variant == "both" else _WITH_SINGLE
    options = bank.get(action.name)
    if not options:
        return ""
    side = action.variant if action.variant in ("left", "right") else ""
    return _fill(_pick(rng, options), voice, side)


def torso_phrases(action: Action, voice: Voice, rng: np.random.Generator) -> tuple[list[VP], set]:
    name = action.name
    special = _TORSO.get(f"{name}:{action.amplitude}", []) if action.amplitude != "normal" else []
    said: set = set()
    if special and rng.random() < 0.6:
        template, said = _pick(rng, special), {"manner"}
    else:
        template = _pick(rng, _TORSO[name])
    template = template.replace("{d}", action.variant or "left")
    return _vps(template, voice), said


def _decorate(vps: list[VP], action: Action, said: set, rng: np.random.Generator) -> None:
    """Add the counts and manner adverbs the phrase does not express yet (mostly; annotators often leave them out)."""
    last = vps[-1]
    counted = "count" in said or "time" in last.rest
    if action.name in COUNTED and action.reps > 1 and not counted and rng.random() < 0.8:
        last.rest = f"{last.rest} {count_adverb(rng, action.reps)}".strip()
    if "manner" in said:
        return
    words = None
    if action.speed != "normal" and rng.random() < 0.7:
        words = SPEED_WORDS[action.speed]
    elif action.amplitude != "normal" and rng.random() < 0.6:
        words = AMPLITUDE_WORDS[action.amplitude]
        if action.amplitude == "large":
            words = LARGE_WORDS.get(action.name, words)
    if words:
        light = vps[0].verb in ("do", "take", "make", "give")  # "slightly does a jump" reads wrong
        pre_ok = bool(words["pre"]) and not vps[0].pre and not light
        if pre_ok and (len(vps) > 1 or rng.random() < 0.35):  # "slowly squats down and stands back up"
            vps[0].pre = _pick(rng, words["pre"])
        elif len(vps) == 1:
            last.rest = f"{last.rest} {_pick(rng, words['post'])}".strip()


def _gait_like(action: Action) -> bool:
    return action.name not in ("stand", "sit", "kneel")


def segment_clause(segment: Segment, voice: Voice, rng: np.random.Generator, after_gait: bool = False) -> Clause:
    """One clause describing what happens in a segment."""
    base = segment.base
    arm, torso = segment.arm, segment.torso
    if arm is None and torso is None:
        vps, said = base_phrases(base, voice, rng, pause=after_gait)
        _decorate(vps, base, said, rng)
        return Clause(vps)

    upper_vps: list[VP] = []
    tail = ""
    if arm is not None:
        upper_vps, said = arm_phrases(arm, voice, rng)
        _decorate(upper_vps, arm, said, rng)
    if torso is not None:
        torso_vps, said = torso_phrases(torso, voice, rng)
        _decorate(torso_vps, torso, said, rng)
        if upper_vps and _gait_like(base):
            upper_vps = upper_vps + torso_vps  # one "while" per clause is enough
        elif upper_vps:
            holding = with_phrase(arm, voice, rng) if arm else ""
            form = rng.random()
            if holding and form < 0.4:
                upper_vps, tail = torso_vps, holding
            elif form < 0.7:
                tail = "while " + Clause(torso_vps).render("ing")
            else:
                upper_vps = upper_vps + torso_vps
        else:
            upper_vps = torso_vps
    upper = Clause(upper_vps, tail)

    if not _gait_like(base):
        posture = base.name
        roll = rng.random()
        if posture == "stand":
            if after_gait and roll < 0.3:
                return Clause([VP("stop")] + upper.vps, upper.tail)
            if roll < 0.12:
                return Clause([VP("stand")] + upper.vps, upper.tail)
            if roll < 0.2 and not upper.tail:
                return Clause(upper.vps, _pick(rng, _POSTURE_TAIL["stand"]))
            return upper
        if roll < 0.45 and not upper.tail:
            return Clause(upper.vps, _pick(rng, _POSTURE_TAIL[posture]))
        return upper

    base_vps, said = base_phrases(base, voice, rng)
    _decorate(base_vps, base, said, rng)
    base_clause = Clause(base_vps)
    holding = with_phrase(arm, voice, rng) if (arm is not None and torso is None) else ""
    roll = rng.random()
    if holding and roll < 0.35:
        return Clause(base_vps, holding)
    roll = rng.random()
    if upper.tail:  # keep it simple when the upper body already has a tail
        return Clause(base_vps, "while " + upper.render("ing"))
    if roll < 0.3:
        clause = Clause(base_vps, "while " + upper.render("ing"))
    elif roll < 0.55:
        clause = Clause(upper.vps, "while " + base_clause.render("ing"))
    elif roll < 0.75:
        clause = Clause(base_vps + upper.vps)
    else:
        clause = Clause(base_vps, ", " + upper.render("ing"))
    clause.front = "while " + base_clause.render("ing")
    clause.front_main = upper
    return clause


# ------------------------------------------------------------------------------------------------ sentences
def _finite(clause: Clause, pronoun: str) -> str:
    return clause.render("base" if pronoun == "they" else "third")


def _sentence(spec: MotionSpec, voice: Voice, rng: np.random.Generator) -> str:
    clauses = []
    for index, segment in enumerate(spec.segments):
        after_gait = index > 0 and _gait_like(spec.segments[index - 1].base) and spec.segments[index - 1].base.name not in (
            "sit_down", "kneel_down")
        clauses.append(segment_clause(segment, voice, rng, after_gait=after_gait))
    subject, pronoun = voice.subject, voice.pronoun
    third = [c.render("third") for c in clauses]
    ing = [c.render("ing") for c in clauses]
    later = [_finite(c, pronoun) for c in clauses]
    n = len(clauses)
    roll = rng.random()
    if n == 1:
        clause = clauses[0]
        if clause.front and roll < 0.2:
            return f"{clause.front}, {subject} {clause.front_main.render('third')}"
        if roll < 0.2 + PROGRESSIVE_RATE:
            return f"{subject} is {ing[0]}"
        return f"{subject} {third[0]}"
    if n == 2:
        forms = [
            lambda: f"{subject} {third[0]}, then {third[1]}",
            lambda: f"{subject} {third[0]} and then {third[1]}",
            lambda: f"{subject} {third[0]}, and then {third[1]}",
            lambda: f"{subject} {third[0]} then {third[1]}",
            lambda: f"{subject} {third[0]}. after that, {pronoun} {later[1]}",
            lambda: f"{subject} {third[0]}. then {pronoun} {later[1]}",
            lambda: f"{subject} {third[0]} before {ing[1]}",
            lambda: f"after {ing[0]}, {subject} {third[1]}",
            lambda: f"first, {subject} {third[0]}, then {pronoun} {later[1]}",
            lambda: f"{subject} first {third[0]} and then {third[1]}",
            lambda: f"{subject} {third[0]} and {third[1]}",
        ]
        weights = [3, 3, 1, 1, 2, 1, 1.5, 1, 1, 1, 1]
    else:
        forms = [
            lambda: f"{subject} {third[0]}, then {third[1]}, and finally {third[2]}",
            lambda: f"{subject} {third[0]}, {third[1]}, and then {third[2]}",
            lambda: f"{subject} {third[0]}, then {third[1]} before {ing[2]}",
            lambda: f"{subject} {third[0]}. after that, {pronoun} {later[1]} and then {later[2]}",
            lambda: f"first, {subject} {third[0]}. then {pronoun} {later[1]}. finally, {pronoun} {later[2]}",
            lambda: f"{subject} {third[0]} and {third[1]}, then {third[2]}",
            lambda: f"{subject} {third[0]}, then {third[1]} and then {third[2]}",
        ]
        weights = [3, 2, 1, 1.5, 1, 1, 2]
    weights = np.array(weights, dtype=np.float64)
    return forms[int(rng.choice(len(forms), p=weights / weights.sum()))]()


def _terse(spec: MotionSpec, voice: Voice, rng: np.random.Generator) -> str:
    clauses = [segment_clause(s, voice, rng) for s in spec.segments]
    gerunds = " then ".join(c.render("ing") for c in clauses)
    if rng.random() < 0.5 and len(gerunds.split()) >= 2:
        return gerunds
    subject = _pick(rng, ["person", "man", "someone", "a person"])
    return f"{subject} " + " then ".join(c.render("third") for c in clauses)


def _typo(text: str, rng: np.random.Generator) -> str:
    words = text.split(" ")
    # Side and turning words stay intact: a misspelt "rihgt" would not be swapped in the mirrored caption.
    protected = ("left", "right", "clockwise")
    candidates = [i for i, w in enumerate(words) if len(w) >= 5 and w.isalpha() and not w.lower().endswith(protected)]
    if not candidates:
        return text
    index = _pick(rng, candidates)
    word = words[index]
    k = int(rng.integers(1, len(word) - 1))
    kind = rng.integers(3)
    if kind == 0:
        word = word[: k - 1] + word[k] + word[k - 1] + word[k + 1 :]  # swap two letters
    elif kind == 1:
        word = word[:k] + word[k + 1 :]  # drop one
    else:
        word = word[:k] + word[k] + word[k:]  # double one
    words[index] = word
    return " ".join(words)


def _finish(text: str, rng: np.random.Generator) -> str:
    text = " ".join(text.replace(" ,", ",").split())
    sentences = text.split(". ")
    if rng.random() < 0.55:
        sentences = [s[:1].upper() + s[1:] for s in sentences]
    text = ". ".join(sentences)
    if rng.random() < 0.72:
        text += "."
    return text


def caption(spec: MotionSpec, rng: np.random.Generator) -> str:
    """One caption of a motion."""
    voice = Voice.sample(rng)
    text = _terse(spec, voice, rng) if rng.random() < TERSE_RATE else _sentence(spec, voice, rng)
    if rng.random() < TYPO_RATE:
        text = _typo(text, rng)
    return _finish(text, rng)


def captions(spec: MotionSpec, rng: np.random.Generator, count: int = 3) -> list[str]:
    """`count` different captions of a motion."""
    found: list[str] = []
    for _ in range(count * 8):
        text = caption(spec, rng)
        if text.lower().rstrip(".") not in {f.lower().rstrip(".") for f in found}:
            found.append(text)
        if len(found) == count:
            break
    while len(found) < count:  # a motion with very few phrasings: accept a repeat
        found.append(caption(spec, rng))
    return found


def mirror_text(text: str) -> str:
    """The mirrored caption: left/right and clockwise/counterclockwise swapped (remogpt.motion.mirror)."""
    from ...motion.mirror import mirror_caption

    return mirror_caption(text)
