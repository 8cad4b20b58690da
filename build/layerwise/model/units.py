"""What each unit responds to: the held-out examples that excite every conv channel and dense unit most and least.

A conv channel is judged by its largest value over positions, and where that value lies is kept,
so the page shows the crop of the example the channel saw there: its receptive field, as the
anatomy composes it from the ONNX graph (anatomy.receptive_fields), never a rule per layer. A
dense unit sees the whole example. Per model and layer the site gets one JSON file (which
examples, their labels, values and positions, and the percentiles of the unit's value over the
held-out split, to rank the reader's own example) and one PNG sprite of the crops: a row per
unit, TOP then BOTTOM columns (then, for a conv layer of a PyTorch model, the input optimized to
excite the channel, by activation maximization), each cell the receptive field's size; pixels
outside the image are transparent. Both are fetched only when the reader opens a unit (templates/units.js).
"""

import io
import json

import numpy as np
import torch

from .. import contract
from . import models

TOP, BOTTOM = 8, 4  # examples kept per unit: the most exciting, then the least
STEPS, JITTER = 48, 1  # activation maximization: Adam's steps, the largest random shift (pixels) per step
PERCENTILES = 101  # the unit's value at 0%, 1%, ..., 100% of the held-out split
KINDS = ("conv", "linear")  # anatomy.Step kinds whose outputs are units


def unit_layers(layers) -> dict[str, dict | None]:
    """{layer name: receptive field (None: the whole example)} for each shown layer that is a
    convolution (a C x H x W map) or a dense layer (a vector), from its LayerInfo's step."""
    return {
        layer.name: layer.step.get("receptive_field")
        for layer in layers
        if layer.step and layer.step["kind"] in KINDS and len(layer.shape) in (1, 3)
    }


def unit_scores(network, images: torch.Tensor, names: list[str], batch: int = 500) -> dict:
    """{layer: (scores (N, units), positions (N, units, 2))}: a map's largest value per channel
    and its (row, column); a vector's value (position 0, 0)."""
    parts = {name: ([], []) for name in names}
    with torch.no_grad():
        for chunk in images.split(batch):  # (B, C, H, W)
            outputs = network.eval().outputs(chunk.to(network.device))
            for name in names:
                out = outputs[name].float().cpu()
                if out.dim() == 4:  # (B, C, H, W)
                    best, at = out.flatten(2).max(dim=2)  # (B, C) each
                    where = torch.stack([at // out.shape[3], at % out.shape[3]], dim=2)  # (B, C, 2)
                else:  # (B, U)
                    best, where = out, torch.zeros(*out.shape, 2, dtype=torch.long)
                parts[name][0].append(best)
                parts[name][1].append(where)
    return {name: (torch.cat(s), torch.cat(w)) for name, (s, w) in parts.items()}


def ranked(scores: torch.Tensor, positions: torch.Tensor) -> dict:
    """Per unit: the TOP highest and BOTTOM lowest examples (highest first, lowest first), their
    values and positions, and the percentiles of its value over every example."""
    order = torch.sort(scores, dim=0, descending=True, stable=True).indices  # (N, U)
    top = min(TOP, len(order))  # with fewer than TOP + BOTTOM held-out examples the two lists overlap
    picked = torch.cat([order[:top], order.flip(0)[:BOTTOM]])  # (top + bottom, U)
    units = torch.arange(scores.shape[1])
    quantiles = torch.quantile(scores.T.double(), torch.linspace(0, 1, PERCENTILES, dtype=torch.double), dim=1)
    return {
        "top": top,
        "examples": picked.T.numpy(),  # (U, K)
        "values": scores[picked, units].T.numpy(),  # (U, K)
        "positions": positions[picked, units].permute(1, 0, 2).numpy(),  # (U, K, 2)
        "percentiles": quantiles.T.float().numpy(),  # (U, PERCENTILES)
    }


def fourier_scale(height: int, width: int) -> torch.Tensor:
    """(H, W // 2 + 1) weights of an image's spectrum, 1 / frequency: low frequencies first, so
    the optimized image is smooth rather than high-frequency noise (Olah et al., Feature Visualization)."""
    fy = torch.fft.fftfreq(height)[:, None]  # (H, 1)
    fx = torch.fft.rfftfreq(width)[None, :]  # (1, W // 2 + 1)
    return 1 / torch.sqrt(fy**2 + fx**2).clamp(min=1 / max(height, width))


def optimized_inputs(network, shape, layer: str, channels: int, centre: tuple[int, int]) -> dict:
    """Each channel's input that excites it most at its map's centre, by activation
    maximization: the image's spectrum (Fourier parameterization, through a sigmoid so pixels stay
    in [0, 1] like the data's) climbed by Adam for STEPS steps, the image shifted at random by up
    to JITTER pixels each step (a pattern, not one exact alignment). {"images": (U, C, H, W),
    "values": (U,) the channel's value at the centre, "position": the centre}."""
    C, H, W = shape
    generator = torch.Generator().manual_seed(0)
    scale = fourier_scale(H, W).to(network.device)  # (H, W // 2 + 1)
    spectrum = (0.01 * torch.randn(channels, C, H, W // 2 + 1, 2, generator=generator)).to(network.device)
    spectrum.requires_grad_()
    units, (row, column) = torch.arange(channels), centre

    def image() -> torch.Tensor:  # (U, C, H, W)
        return torch.sigmoid(torch.fft.irfft2(torch.view_as_complex(spectrum) * scale, s=(H, W), norm="ortho") * 4)

    network.eval()
    threads = torch.get_num_threads()
    # Tensors this small gain nothing from more threads; on a busy machine two spin (13.7 s vs 0.4 s).
    torch.set_num_threads(1)
    try:
        climb(network, image, spectrum, layer, centre, generator)
    finally:
        torch.set_num_threads(threads)
    with torch.no_grad():
        final = image()  # (U, C, H, W)
        values = network.outputs(final)[layer][units, units, row, column]  # (U,)
    return {"images": final.cpu().numpy(), "values": values.cpu().numpy(), "position": [row, column]}


def climb(network, image, spectrum: torch.Tensor, layer: str, centre: tuple[int, int], generator) -> None:
    """STEPS of Adam on `spectrum`, raising each unit's value at `centre` for its own image
    (image() is (U, C, H, W), unit u's image first), the image jittered each step."""
    optimizer = torch.optim.Adam([spectrum], lr=0.05)
    units, (row, column) = torch.arange(len(spectrum)), centre
    for _ in range(STEPS):
        shift = torch.randint(-JITTER, JITTER + 1, (2,), generator=generator).tolist()
        out = network.outputs(torch.roll(image(), shift, dims=(2, 3)))[layer]  # (U, channels, h, w)
        loss = -out[units, units, row, column].sum()
        (gradient,) = torch.autograd.grad(loss, spectrum)
        optimizer.zero_grad()
        spectrum.grad = gradient
        optimizer.step()


def unit_examples(network, dataset, layers) -> dict:
    """The stage: {layer: ranked(...)} for every unit layer of the (trained) network, over the
    whole held-out split; a conv layer of a PyTorch model (gradients) also its optimized inputs."""
    names = list(unit_layers(layers))
    if not names:
        return {}
    scores = unit_scores(network, dataset.test_x, names)
    found = {name: ranked(*scores[name]) for name in names}
    if isinstance(network, models.Network):
        for layer in layers:
            if layer.name in found and len(layer.shape) == 3:
                channels, h, w = layer.shape
                centre = (h // 2, w // 2)
                found[layer.name]["optimized"] = optimized_inputs(network, dataset.shape, layer.name, channels, centre)
    return found


# --- the site's files ---------------------------------------------------------------------------


def as_rgba(images: np.ndarray) -> np.ndarray:
    """(N, C, H, W) floats in [0, 1] -> (N, H, W, 4) bytes as the page draws examples: one
    channel as dark ink on white, three as colour."""
    pixels = np.round(images * 255).astype(np.uint8)  # (N, C, H, W)
    rgb = 255 - pixels[:, :1].repeat(3, axis=1) if pixels.shape[1] == 1 else pixels[:, :3]  # (N, 3, H, W)
    alpha = np.full_like(rgb[:, :1], 255)  # (N, 1, H, W)
    return np.concatenate([rgb, alpha], axis=1).transpose(0, 2, 3, 1)


def crop_size(field: dict | None, shape) -> list[int]:
    return list(field["size"]) if field else list(shape[1:])


def crop(image: np.ndarray, field: dict | None, position) -> np.ndarray:
    """The (h, w, 4) window of an (H, W, 4) image a unit saw at `position`; transparent where
    the window reaches past the image (padding)."""
    if field is None:
        return image
    h, w = field["size"]
    top = field["start"][0] + position[0] * field["jump"][0]
    left = field["start"][1] + position[1] * field["jump"][1]
    out = np.zeros((h, w, 4), dtype=np.uint8)
    rows = slice(max(top, 0), min(top + h, image.shape[0]))
    columns = slice(max(left, 0), min(left + w, image.shape[1]))
    if rows.start < rows.stop and columns.start < columns.stop:
        out[rows.start - top : rows.stop - top, columns.start - left : columns.stop - left] = image[rows, columns]
    return out


def sprite_png(found: dict, field: dict | None, images: np.ndarray) -> bytes:
    """Every unit's crops as one PNG: a row per unit, its examples left to right."""
    from PIL import Image

    examples, positions = found["examples"], found["positions"]  # (U, K), (U, K, 2)
    rows = [[crop(images[e], field, p) for e, p in zip(examples[u], positions[u])] for u in range(len(examples))]
    if "optimized" in found:  # a last column: each unit's optimized input, where it was optimized
        optimized = as_rgba(found["optimized"]["images"])  # (U, H, W, 4)
        for u, row in enumerate(rows):
            row.append(crop(optimized[u], field, found["optimized"]["position"]))
    rows = [np.concatenate(row, axis=1) for row in rows]
    out = io.BytesIO()
    Image.fromarray(np.concatenate(rows, axis=0), "RGBA").save(out, "PNG")  # optimize: 2% smaller, 4x slower
    return out.getvalue()


def unit_file(found: dict, field: dict | None, labels: np.ndarray) -> bytes:
    """The layer's JSON: per unit its examples (indices into the held-out split), their labels,
    values and positions, and its percentiles."""
    units = [
        {
            "examples": found["examples"][u].tolist(),
            "labels": labels[found["examples"][u]].tolist(),
            "values": np.round(found["values"][u], 5).tolist(),
            "positions": found["positions"][u].tolist(),
            "percentiles": np.round(found["percentiles"][u], 4).tolist(),
            **({"optimized": round(float(found["optimized"]["values"][u]), 5)} if "optimized" in found else {}),
        }
        for u in range(len(found["examples"]))
    ]
    where = {"optimized_position": found["optimized"]["position"]} if "optimized" in found else {}
    return json.dumps({"receptive_field": field, **where, "units": units}, separators=(",", ":")).encode()


def classes_among_top(examples: np.ndarray, labels: np.ndarray) -> float:
    """The mean number of distinct labels in each row of (U, TOP) example indices."""
    return round(float(np.mean([len(set(labels[row].tolist())) for row in examples])), 2)


def publish(model: str, found: dict, layers, dataset) -> dict[str, bytes]:
    """The site's files for one model, and each unit layer's LayerInfo.units (what the contract
    tells the page: how many examples of each kind, the crop's size, what ranks them)."""
    fields = unit_layers(layers)
    images, labels = as_rgba(dataset.test_x.numpy()), dataset.test_y.numpy()
    files = {}
    for layer in layers:
        if layer.name not in found:
            continue
        field = fields[layer.name]
        top = found[layer.name]["top"]
        layer.units = {
            "top": top,
            "bottom": found[layer.name]["examples"].shape[1] - top,
            "crop": crop_size(field, dataset.shape),
            # The sprite's last column, where there is one: the input optimized to excite the unit.
            "optimized": {"steps": STEPS, "jitter": JITTER} if "optimized" in found[layer.name] else None,
            "by": "its largest value anywhere on the map" if len(layer.shape) == 3 else "its value",
            # How many classes a unit's top examples span, on average over its units: about one
            # for a unit that detects a class, more for one that detects a stroke any class has.
            "classes_among_top": classes_among_top(found[layer.name]["examples"][:, :top], labels),
        }
        files[contract.site_path("units", model=model, layer=layer.name)] = unit_file(found[layer.name], field, labels)
        files[contract.site_path("unit_crops", model=model, layer=layer.name)] = sprite_png(
            found[layer.name], field, images
        )
    return files
