"""A Plotly figure of pictures or dots drawn as a still PNG: what readers get where the browser
cannot draw it (no JavaScript, a page opened from disk, some printers) and no table would help.

Only what such figures hold is drawn: images, heatmaps and marker scatters, each in its subplot's
panel, and the subplot titles. Axes, ticks and legends are left to the live figure and caption."""

import base64
import io

import numpy as np
from PIL import Image, ImageColor, ImageDraw, ImageFont

WIDTH = 720  # the page's column


def plot_area(fig, size: tuple[int, int]) -> tuple[int, int, int, int]:
    """(left, top, right, bottom) pixels inside the figure's margins (Plotly's defaults if unset)."""
    margin, (width, height) = fig.layout.margin, size
    given = lambda value, default: default if value is None else value  # noqa: E731
    return (
        given(margin.l, 80),
        given(margin.t, 100),
        width - given(margin.r, 80),
        height - given(margin.b, 80),
    )


def panel(fig, trace, size: tuple[int, int]) -> tuple[int, int, int, int]:
    """(left, top, right, bottom) pixels of the trace's subplot."""
    left, top, right, bottom = plot_area(fig, size)
    x_domain = fig.layout[f"xaxis{(trace.xaxis or 'x')[1:]}"].domain or (0, 1)
    y_domain = fig.layout[f"yaxis{(trace.yaxis or 'y')[1:]}"].domain or (0, 1)
    return (
        round(left + x_domain[0] * (right - left)),
        round(top + (1 - y_domain[1]) * (bottom - top)),
        round(left + x_domain[1] * (right - left)),
        round(top + (1 - y_domain[0]) * (bottom - top)),
    )


def heatmap_rgba(trace) -> np.ndarray:
    """A heatmap's values through its colour scale -> (H, W, 4) uint8; NaN is transparent."""
    from plotly.colors import get_colorscale, sample_colorscale

    z = np.asarray(trace.z, dtype=float)  # (H, W)
    scale = trace.colorscale
    scale = get_colorscale(scale) if isinstance(scale, str) else [list(s) for s in scale]
    if trace.reversescale:
        scale = [[1 - at, colour] for at, colour in reversed(scale)]
    low = trace.zmin if trace.zmin is not None else np.nanmin(z)
    high = trace.zmax if trace.zmax is not None else np.nanmax(z)
    where = np.clip((np.nan_to_num(z, nan=low) - low) / ((high - low) or 1), 0, 1)
    levels = np.linspace(0, 1, 256)
    lookup = np.array([ImageColor.getrgb(c) for c in sample_colorscale(scale, levels)], dtype=np.uint8)  # (256, 3)
    rgb = lookup[np.round(where * 255).astype(int)]  # (H, W, 3)
    alpha = np.where(np.isnan(z), 0, 255).astype(np.uint8)[..., None]
    return np.concatenate([rgb, alpha], axis=2)


def paste_image(canvas: Image.Image, pixels: np.ndarray, box, reversed_y: bool) -> None:
    """An (H, W, 3|4) array fitted into `box`, keeping its aspect, centred, pixels kept sharp."""
    image = Image.fromarray(pixels[::-1] if reversed_y else pixels)
    left, top, right, bottom = box
    scale = min((right - left) / image.width, (bottom - top) / image.height)
    size = (max(1, round(image.width * scale)), max(1, round(image.height * scale)))
    image = image.convert("RGBA").resize(size, Image.NEAREST)
    at = (left + (right - left - size[0]) // 2, top + (bottom - top - size[1]) // 2)
    canvas.alpha_composite(image, at)


def image_pixels(trace) -> np.ndarray:
    """An image trace's (H, W, 3|4) pixels: its z, or the PNG of its data URL `source`."""
    if trace.z is not None:
        return np.asarray(trace.z, dtype=np.uint8)
    return np.asarray(Image.open(io.BytesIO(base64.b64decode(trace.source.split(",", 1)[1]))))


def draw_dots(draw: ImageDraw.ImageDraw, trace, box, extent) -> None:
    x, y = np.asarray(trace.x, dtype=float), np.asarray(trace.y, dtype=float)
    (x0, x1), (y0, y1) = extent
    left, top, right, bottom = box
    colours = trace.marker.color
    colours = [colours] * len(x) if isinstance(colours, str) or colours is None else list(colours)
    radius = max(1.5, (trace.marker.size or 6) / 2.5)
    for px, py, colour in zip(x, y, colours):
        if np.isnan(px) or np.isnan(py):
            continue
        cx = left + (px - x0) / ((x1 - x0) or 1) * (right - left)
        cy = bottom - (py - y0) / ((y1 - y0) or 1) * (bottom - top)
        draw.ellipse((cx - radius, cy - radius, cx + radius, cy + radius), fill=colour or "#1f77b4")


def title_font():
    """DejaVu Sans (Chromium's Debian package brings it) has every glyph titles use, "→" too;
    Pillow's own font where it is missing."""
    try:
        return ImageFont.truetype("DejaVuSans.ttf", 13)
    except OSError:
        return ImageFont.load_default(size=13)


def still_png(fig) -> bytes | None:
    """The figure as PNG bytes, or None if it holds something this does not draw (lines, bars)."""
    kinds = {t.type for t in fig.data}
    if not fig.data or not kinds <= {"image", "heatmap", "scatter"}:
        return None
    if any(t.type == "scatter" and "lines" in (t.mode or "lines") for t in fig.data):
        return None
    size = (WIDTH, fig.layout.height or 450)
    canvas = Image.new("RGBA", size, "white")  # a white card in dark mode too: the colours are the figure's
    draw = ImageDraw.Draw(canvas)
    for trace in fig.data:
        box = panel(fig, trace, size)
        y_axis = fig.layout[f"yaxis{(trace.yaxis or 'y')[1:]}"]
        if trace.type == "image":
            paste_image(canvas, image_pixels(trace), box, reversed_y=False)  # images run top-down
        elif trace.type == "heatmap":
            paste_image(canvas, heatmap_rgba(trace), box, reversed_y=y_axis.autorange != "reversed")
        elif trace.marker.opacity == 0:  # markers there only to be hovered (the atlas' cells)
            continue
        elif trace.x is not None and any(v is not None for v in trace.x):
            x, y = np.asarray(trace.x, dtype=float), np.asarray(trace.y, dtype=float)
            draw_dots(draw, trace, box, ((np.nanmin(x), np.nanmax(x)), (np.nanmin(y), np.nanmax(y))))
    font, box = title_font(), plot_area(fig, size)
    for note in fig.layout.annotations:  # the subplot titles
        if note.xref == "paper" and note.yref == "paper" and note.text:
            x = box[0] + note.x * (box[2] - box[0])
            y = box[3] - note.y * (box[3] - box[1])
            lines = note.text.split("<br>")  # Plotly's line break, as PIL's
            draw.multiline_text((x, y), "\n".join(lines), fill="#444", font=font, anchor="md", align="center")
    out = io.BytesIO()
    canvas.convert("RGB").save(out, "PNG", optimize=True)
    return out.getvalue()
