"""Instruction prompts in the paper's format (Fig. 5), with pools of paraphrased instructions per task.

    ### Input:
    <instruction>
    ### Context:
    Text: <reference caption> Motion: <reference motion tokens>
    ...
    ### Output:

The target is the motion span (`<som>...<eom>`) or the caption. Without references the Context block is left out
(motion-language pretraining). Placeholders in templates: {caption}, {motion}, {seconds}, {frames}, {motion_start},
{motion_end}.
"""

from __future__ import annotations

import random
import string
from dataclasses import dataclass
from typing import Container, Sequence

# how motion tokens are written in prompts and targets (the vocabulary adds these strings as tokens)
START_OF_MOTION = "<som>"
END_OF_MOTION = "<eom>"
MOTION_MASK = "<motion_mask>"


def motion_token(code: int) -> str:
    return f"<motion_id_{code}>"


def motion_span(codes: Sequence[int], masked: Container[int] = ()) -> str:
    """Motion codes -> `<som><motion_id_..>...<eom>`; positions in `masked` become <motion_mask> (no range check)."""
    body = "".join(MOTION_MASK if i in masked else motion_token(int(c)) for i, c in enumerate(codes))
    return START_OF_MOTION + body + END_OF_MOTION

TEMPLATES: dict[str, tuple[str, ...]] = {
    "t2m": (
        "Show me a motion that illustrates {caption}",
        "Generate a motion matching the description: {caption}",
        "Create a human motion for the following text: {caption}",
        "Animate this: {caption}",
        "Give me motion tokens for \"{caption}\"",
        "How would a person move if {caption}?",
        "Produce a 3D human motion where {caption}",
        "Make the character perform this: {caption}",
        "Turn this description into a motion: {caption}",
        "Please demonstrate the motion described by {caption}",
    ),
    "t2m_seconds": (
        "Show me a motion of {seconds} seconds that illustrates {caption}",
        "Generate a {seconds}-second motion matching: {caption}",
        "Create a human motion lasting {seconds} seconds for: {caption}",
        "Animate this for about {seconds} seconds: {caption}",
        "In {seconds} seconds, show how a person moves when {caption}",
    ),
    "t2m_frames": (
        "Generate a motion of {frames} frames that illustrates {caption}",
        "Create {frames} frames of human motion for: {caption}",
        "Show me a {frames}-frame motion where {caption}",
        "Produce a motion with {frames} frames matching: {caption}",
    ),
    "m2t": (
        "Generate text for {motion}:",
        "Describe the motion {motion} in words.",
        "What is the person doing in {motion}?",
        "Caption this motion: {motion}",
        "Explain what happens in {motion}",
        "Write a short description of {motion}",
        "Give a caption for the movement {motion}",
        "Tell me what motion {motion} shows.",
    ),
    "prediction": (
        "Predict how this motion continues: {motion_start}",
        "Continue the motion {motion_start}",
        "Here is the beginning of a motion: {motion_start}. Generate the rest.",
        "What comes after {motion_start}?",
        "Complete the motion that starts with {motion_start}",
    ),
    "inbetween": (
        "Fill in the motion between {motion_start} and {motion_end}",
        "Generate the middle part connecting {motion_start} to {motion_end}",
        "The motion starts with {motion_start} and ends with {motion_end}. Complete the middle.",
        "Connect {motion_start} and {motion_end} with a natural motion.",
        "Create a transition from {motion_start} to {motion_end}",
    ),
    "paraphrase": (
        "Say this differently: {caption}",
        "Rephrase the motion description: {caption}",
        "Describe the same motion in other words: {caption}",
        "Write another caption for the motion described as {caption}",
    ),
}

TASKS = tuple(TEMPLATES)


@dataclass(frozen=True)
class Reference:
    """One retrieved motion-caption pair: data everywhere, text only inside `build_prompt`."""

    caption: str
    codes: tuple[int, ...]  # the motion's tokens (the frozen motion tokenizer's codes)
    kind: str = ""  # the similarity type that found it, e.g. "text->motion" (retrieval/database.py KINDS)
    similarity: float = 0.0
    motion_id: str = ""  # the database clip it comes from
    name: str = ""  # the database sample (motion id, or id@start-end for a timed caption)


def placeholders(template: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(template) if name}


def fill(template: str, **values: str) -> str:
    """Fill a template; every placeholder must be given (a missing one is a bug, not user input)."""
    missing = placeholders(template) - set(values)
    if missing:
        raise KeyError(f"template needs {sorted(missing)}: {template!r}")
    return template.format(**values)


def build_prompt(instruction: str, references: Sequence[Reference] = ()) -> str:
    lines = ["### Input:", instruction]
    if references:
        lines.append("### Context:")
        lines += [f"Text: {ref.caption} Motion: {motion_span(ref.codes)}" for ref in references]
    lines.append("### Output:")
    return "\n".join(lines)


def sample_instruction(task: str, rng: random.Random, **values: str) -> str:
    return fill(rng.choice(TEMPLATES[task]), **values)


def first_instruction(task: str, **values: str) -> str:
    """The deterministic instruction used at inference (the first template of the pool)."""
    return fill(TEMPLATES[task][0], **values)


def unconditional_instruction(task: str, rng: random.Random | None = None, *, frames: int, fps: float) -> str:
    """A text-to-motion instruction without its caption (the length stays): what a prompt dropped in training
    (`caption_dropout`) and the one text guidance contrasts with at inference (the first template, rng None)."""
    values = dict(caption="", frames=str(int(frames)), seconds=f"{frames / fps:.1f}")
    return (sample_instruction(task, rng, **values) if rng is not None else first_instruction(task, **values)).strip()
