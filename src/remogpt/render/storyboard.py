"""A PNG storyboard: evenly spaced frames in a grid, each with its time, the title on top."""

from __future__ import annotations

import math

import numpy as np
from PIL import Image, ImageDraw

from . import style
from .renderer import storyboard_renderer
from .text import draw_title, font, title_lines

PANEL_WIDTH = 300  # pixels
COLUMNS = 4
GAP = 10
LABEL_HEIGHT = 24
DEFAULT_FRAMES = 8


def storyboard(joints: np.ndarray, skeleton, fps: float, title: str | None,
               frames: int = DEFAULT_FRAMES) -> Image.Image:
    """A sheet of `frames` evenly spaced frames (at most 4 per row, never more than the clip has)."""
    num_frames = len(joints)
    picks = np.unique(np.round(np.linspace(0, num_frames - 1, min(frames, num_frames))).astype(int))
    columns = min(COLUMNS, len(picks))
    rows = math.ceil(len(picks) / columns)
    width = columns * PANEL_WIDTH + (columns + 1) * GAP
    lines, band = title_lines(title, width, 22, max_lines=4)
    band = max(band, GAP)
    renderer = storyboard_renderer(joints, skeleton, PANEL_WIDTH)
    panel_height = renderer.height
    sheet = Image.new("RGB", (width, band + rows * (panel_height + LABEL_HEIGHT + GAP)), style.BACKGROUND)
    if lines:
        draw_title(sheet, lines, 22, band)
    draw = ImageDraw.Draw(sheet)
    label_font = font(15)
    for i, t in enumerate(picks):
        row, column = divmod(i, columns)
        x = GAP + column * (PANEL_WIDTH + GAP)
        y = band + row * (panel_height + LABEL_HEIGHT + GAP)
        sheet.paste(renderer.frame(int(t)), (x, y))
        draw.rectangle([x - 1, y - 1, x + PANEL_WIDTH, y + panel_height], outline=style.PANEL_BORDER)
        draw.text((x + PANEL_WIDTH / 2, y + panel_height + LABEL_HEIGHT / 2 + 1),
                  f"{t / fps:.2f} s  (frame {t + 1}/{num_frames})", fill=style.TEXT, font=label_font, anchor="mm")
    return sheet
