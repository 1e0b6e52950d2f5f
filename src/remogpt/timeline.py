"""Motions longer than one clip: a sequence of steps (text, optional seconds) written as one continuous motion.

Each step is generated from its own text (retrieved context and reranked candidates as for any prompt); each join
is bridged with the in-between task, given the end of one step and the start of the next; then the whole code
sequence is decoded at once, so the root trajectory and the poses run on through the joins. A transition takes its
time half from each of the two steps it joins, so a timeline lasts the sum of its steps' seconds. A step longer
than one clip goes on with the prediction task, prompted with the end of what it has so far (the length contract:
a duration is never cut silently to one clip).

    "walk forward | sit down | wave"              parse_steps
    {"text": "walk forward", "seconds": 8}        one JSON object per line of a timeline file (read_timeline)
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from pathlib import Path

from .errors import UserInputError

STEP_SEPARATOR = "|"
MAX_STEPS = 32  # one request; each step is a generation, each join a bridge
DEFAULT_TRANSITION_SECONDS = 1.0
CONTINUATION_CONTEXT = 12  # tokens of a step's motion a continuation is prompted with (about a quarter of a clip)


@dataclass(frozen=True)
class Step:
    text: str
    seconds: float | None = None  # None: the model decides


GIVEN_START, GIVEN_END = Step("(the given start)"), Step("(the given end)")  # segments of given motions


@dataclass
class LongMotion:
    motion: object  # pipeline.GeneratedMotion of the whole timeline
    steps: list[Step]  # each piece in order: the given start (if any), the steps, the given end (if any)
    segments: list[tuple[int, int]]  # frame range [start, end) of each piece
    joins: list[tuple[int, int]] = field(default_factory=list)  # frame range of each transition between steps


def parse_steps(text: str) -> list[Step]:
    """'walk forward | sit down | wave' -> three steps (a text without the separator is one step)."""
    parts = [" ".join(part.split()) for part in text.split(STEP_SEPARATOR)]
    if any(not part for part in parts):
        raise UserInputError(f"a step of '{text}' is empty; separate descriptions with '{STEP_SEPARATOR}', e.g. 'walk forward | sit down'.")
    return [Step(part) for part in parts]


def read_timeline(path: str | Path) -> list[Step]:
    """A timeline file: one JSON object per line, {"text": "...", "seconds": 4.0} (seconds optional)."""
    path = Path(path)
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as error:
        raise UserInputError(f"timeline '{path}' cannot be read as UTF-8 text: {error.__class__.__name__}.") from None
    steps = []
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            entry = json.loads(line)
        except json.JSONDecodeError:
            raise UserInputError(f"timeline '{path}' line {number} is not JSON; write one object per line, e.g. {{\"text\": \"walk forward\", \"seconds\": 4}}.") from None
        if not isinstance(entry, dict) or not isinstance(entry.get("text"), str) or not entry["text"].strip():
            raise UserInputError(f"timeline '{path}' line {number} needs a non-empty \"text\".")
        seconds = entry.get("seconds")
        if seconds is not None and (isinstance(seconds, bool) or not isinstance(seconds, (int, float)) or not math.isfinite(seconds) or seconds <= 0):
            raise UserInputError(f"timeline '{path}' line {number}: \"seconds\" must be a positive number, not {seconds!r}.")
        steps.append(Step(" ".join(entry["text"].split()), None if seconds is None else float(seconds)))
    if not steps:
        raise UserInputError(f"timeline '{path}' holds no step.")
    return steps


def generate_long(
    model,
    steps: list[Step],
    transition_seconds: float = DEFAULT_TRANSITION_SECONDS,
    seed: int | None = None,
    *,
    before: list[int] | None = None,
    after: list[int] | None = None,
) -> LongMotion:
    """One continuous motion for the steps (see the module's docstring); `model` is a pipeline.ReMoGPT.

    `before` / `after`: motion codes of a given motion to start from / to end in (text-guided prediction and
    in-betweening): kept as they are, bridged to the steps like any other join, listed as segments too."""
    if not isinstance(transition_seconds, (int, float)) or not math.isfinite(transition_seconds) or not 0 <= transition_seconds <= 5:
        raise UserInputError(f"the transition must be between 0 and 5 seconds, not {transition_seconds}.")
    if not steps or len(steps) > MAX_STEPS:
        raise UserInputError(f"a timeline holds 1 to {MAX_STEPS} steps, not {len(steps)}.")
    for number, step in enumerate(steps, 1):
        if step.seconds is not None and (isinstance(step.seconds, bool) or not isinstance(step.seconds, (int, float))
                                         or not math.isfinite(step.seconds) or step.seconds <= 0):  # fmt: skip
            raise UserInputError(f"step {number} ('{step.text}') must last a positive number of seconds, not {step.seconds}.")
    factor, fps = model.motion_tokenizer.config.downsample_factor, model.config.fps
    given = [(GIVEN_START, list(before))] if before else []
    ends = [(GIVEN_END, list(after))] if after else []
    count, first = len(steps) + len(given) + len(ends), len(given)  # pieces in the motion; index of the first step
    bridge = max(1, round(transition_seconds * fps / factor)) if transition_seconds > 0 and count > 1 else 0  # tokens a join
    kinds = ["given"] * len(given) + ["step"] * len(steps) + ["given"] * len(ends)  # what lies on each side of a step
    plans = [
        _parts(model, i, step, kinds[first + i - 1] if first + i > 0 else None, kinds[first + i + 1] if first + i + 1 < count else None,
               bridge, transition_seconds)
        for i, step in enumerate(steps)
    ]  # fmt: skip
    segments = model.generate_motions([s.text for s in steps], [plan[0] for plan in plans], seed=seed)
    generated = [list(map(int, s.tokens)) for s in segments]
    for part in range(1, max(map(len, plans))):  # steps longer than a clip go on where they stopped, all in one batch a round
        todo = [i for i, plan in enumerate(plans) if len(plan) > part]
        more = model.continuation_codes([generated[i][-CONTINUATION_CONTEXT:] for i in todo], [plans[i][part] for i in todo], seed=seed)
        for i, new in zip(todo, more):
            generated[i] += new
    pieces = given + [(step, c) for step, c in zip(steps, generated)] + ends
    codes = [c for _, c in pieces]
    bridges: list[list[int]] = [[] for _ in codes[1:]]
    if bridge:
        side = (bridge + 1) // 2  # context on each side: about half the gap, as the in-between task was trained
        bridges = model.bridge_codes([c[-side:] for c in codes[:-1]], [c[:side] for c in codes[1:]], bridge * factor, seed=seed)
    everything, spans, joins = [], [], []
    for i, piece_codes in enumerate(codes):
        if i:
            joins.append((len(everything) * factor, (len(everything) + len(bridges[i - 1])) * factor))
            everything += bridges[i - 1]
        spans.append((len(everything) * factor, (len(everything) + len(piece_codes)) * factor))
        everything += piece_codes
    motion = model.motion_from_codes(f" {STEP_SEPARATOR} ".join(s.text for s, _ in pieces), everything)
    motion.context = [ref for s in segments for ref in s.context]
    motion.notices = list(dict.fromkeys(n for s in segments for n in s.notices))
    return LongMotion(motion, [s for s, _ in pieces], spans, joins)


def _parts(model, index: int, step: Step, left: str | None, right: str | None, bridge: int, transition_seconds: float) -> list[int | None]:
    """A step's own frames, in parts of at most one clip: its seconds in whole tokens, less its share of the
    bridges on either side: half a bridge shared with another step (the earlier gives the smaller half), a whole
    one next to a given motion (which keeps its length), nothing at either end."""
    if step.seconds is None:
        return [None]  # the model decides: one clip
    factor = model.motion_tokenizer.config.downsample_factor
    shortest, longest = model.frame_range()
    share = {None: (0, 0), "step": (bridge - bridge // 2, bridge // 2), "given": (bridge, bridge)}
    tokens = round(step.seconds * model.config.fps / factor) - share[left][0] - share[right][1]
    if tokens * factor < shortest:
        raise UserInputError(
            f"step {index + 1} ('{step.text}') lasts {step.seconds:g} s, too short for its transitions of "
            f"{transition_seconds:g} s; make it longer or the transition shorter."
        )
    parts = math.ceil(tokens * factor / longest)
    return [(tokens // parts + (1 if i < tokens % parts else 0)) * factor for i in range(parts)]
