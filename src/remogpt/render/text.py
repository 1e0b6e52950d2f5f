"""Text on renders: Pillow's bundled font, word wrapping by rendered width, the title band."""

from __future__ import annotations

import functools

from PIL import Image, ImageDraw, ImageFont

from . import style

LINE_SPACING = 1.3


@functools.lru_cache(maxsize=16)
def font(size: int) -> ImageFont.FreeTypeFont:
    """Pillow's bundled TrueType font: no system font needed."""
    return ImageFont.load_default(size=size)


def wrap_text(text: str, face: ImageFont.FreeTypeFont, max_width: float, max_lines: int) -> list[str]:
    """Greedy word wrap by rendered width; words longer than a line are cut, overflow ends with an ellipsis."""
    lines: list[str] = []
    current = ""
    for word in text.split():
        while face.getlength(word) > max_width and len(word) > 1:  # a single over-long token
            cut = len(word)
            while cut > 1 and face.getlength(word[:cut]) > max_width:
                cut -= 1
            if current:
                lines.append(current)
                current = ""
            lines.append(word[:cut])
            word = word[cut:]
        candidate = f"{current} {word}".strip()
        if face.getlength(candidate) <= max_width:
            current = candidate
        else:
            lines.append(current)
            current = word
    if current:
        lines.append(current)
    if len(lines) > max_lines:
        last = lines[max_lines - 1]
        while last and face.getlength(last + "…") > max_width:
            last = last[:-1]
        lines = lines[: max_lines - 1] + [last.rstrip() + "…"]
    return lines


def title_lines(title: str | None, width: int, font_size: int, max_lines: int) -> tuple[list[str], int]:
    """The title wrapped to `width` pixels, and the height of the band it needs (0 without a title)."""
    if not title or not title.strip():
        return [], 0
    face, text, max_width = font(font_size), " ".join(title.split()), width - 2 * font_size
    lines = wrap_text(text, face, max_width, max_lines)
    if 1 < len(lines) < max_lines:  # balance the lines: the narrowest width that needs no extra line
        low, high = max_width / len(lines), max_width
        while high - low > 4:
            middle = (low + high) / 2
            low, high = (low, middle) if len(wrap_text(text, face, middle, max_lines + 1)) == len(lines) else (
                middle, high)
        lines = wrap_text(text, face, high, max_lines)
    return lines, int(len(lines) * font_size * LINE_SPACING + font_size)


def draw_title(image: Image.Image, lines: list[str], font_size: int, band: int) -> None:
    """Centre `lines` in the top `band` pixels of `image`."""
    draw = ImageDraw.Draw(image)
    face = font(font_size)
    line_height = font_size * LINE_SPACING
    top = (band - len(lines) * line_height) / 2
    for i, line in enumerate(lines):
        draw.text((image.width / 2, top + (i + 0.5) * line_height), line, fill=style.TEXT, font=face, anchor="mm")
