"""Draw the app's Teams icons: `python manifest/draw_icons.py` (Pillow, a dev dependency).

color.png   192×192, full colour: a white warning triangle with a check mark on the accent
            colour, the symbol inside the safe area Teams recommends.
outline.png 32×32, white on transparent, as Teams requires for the outline icon.
"""

from __future__ import annotations

from pathlib import Path

from PIL import Image, ImageDraw

HERE = Path(__file__).resolve().parent
ACCENT = (14, 107, 88, 255)  # #0E6B58, the manifest's accentColor
WHITE = (255, 255, 255, 255)
SCALE = 8  # draw large and shrink, for smooth edges


def _triangle_with_check(
    draw: ImageDraw.ImageDraw,
    size: int,
    inset: float,
    stroke: float,
    colour: tuple[int, int, int, int],
    background: tuple[int, ...],
) -> None:
    top = (size / 2, size * inset)
    left = (size * inset, size * (1 - inset * 1.1))
    right = (size * (1 - inset), size * (1 - inset * 1.1))
    draw.polygon([top, right, left], fill=colour)
    check = [
        (size * 0.38, size * 0.64),
        (size * 0.47, size * 0.72),
        (size * 0.60, size * 0.54),
    ]
    draw.line(check, fill=background, width=round(size * stroke), joint="curve")


def draw_color(path: Path) -> None:
    size = 192 * SCALE
    image = Image.new("RGBA", (size, size), ACCENT)
    _triangle_with_check(ImageDraw.Draw(image), size, 0.2, 0.07, WHITE, ACCENT)
    image.resize((192, 192), Image.Resampling.LANCZOS).save(path, optimize=True)


def draw_outline(path: Path) -> None:
    size = 32 * SCALE
    image = Image.new("RGBA", (size, size), (0, 0, 0, 0))
    _triangle_with_check(ImageDraw.Draw(image), size, 0.08, 0.09, WHITE, (0, 0, 0, 0))
    alpha = image.resize((32, 32), Image.Resampling.LANCZOS).getchannel("A")
    # Only white, at any opacity: Teams tints the outline and rejects other colours.
    white = Image.new("L", (32, 32), 255)
    Image.merge("RGBA", (white, white, white, alpha)).save(path, optimize=True)


if __name__ == "__main__":
    draw_color(HERE / "color.png")
    draw_outline(HERE / "outline.png")
