"""The Grand Tour stage: the files the page's tour reads (templates/tour.js), from the recorded
model's snapshots of its weights: each layer's reduced activations, the bases and per-snapshot
models that place a reader's example among them, the alignments between layers, and the
adversarial examples' paths through every layer; with a summary for the prose."""

import functools
import json

import numpy as np

from .. import contract
from . import adversarial, export, record, representation


def record_tour(network, trained: dict, dataset, settings: dict, attack_settings: dict) -> dict:
    """The Grand Tour's files: each layer's reduced activations per snapshot of the weights
    (float16), the bases that reduce a reader's example the same way (float32), the sample, one
    ONNX per snapshot, and the adversarial examples' paths through every layer. What an example
    is at a layer, and which of these its kind of data has, is representation.py's."""
    snapshots = trained["snapshots"]
    kind = representation.of(dataset.source)
    picked = record.sample_indices(dataset.test_y, settings["sample_size"], settings["seed"])
    examples = dataset.test_x[picked]
    vectors = functools.partial(kind.vectors, source=dataset.source)
    recorded = record.record_activations(
        network, snapshots, examples, dataset.test_y[picked], settings["dims"], vectors
    )
    count, n = recorded["predictions"].shape
    model = network.name
    files, meta_layers = layer_files(model, recorded["layers"])
    # Consecutive layers aligned by rotation, per snapshot: what the page's layer changes follow.
    files[contract.site_path("tour_align", model=model)] = record.alignments(recorded["layers"]).astype("<f4").tobytes()
    preview = kind.preview(examples, dataset.source)
    thumbnails = preview.get("thumbnails", np.zeros((n, 0), np.uint8))  # (n, size): none for text
    files[contract.site_path("tour_sample", model=model)] = (
        recorded["labels"].tobytes() + recorded["predictions"].tobytes() + thumbnails.tobytes()
    )
    if kind.every_snapshot:
        files |= snapshot_models(network, snapshots, dataset.shape)
    # The time axis: when each snapshot was taken, in epochs and in training examples seen.
    # Epochs to two decimals (what the page says and links write: 0.25, 0.5, 1), examples exactly.
    times, seen = [round(t, 2) for t in trained["snapshot_epochs"]], trained["snapshot_seen"]
    meta = {"snapshots": count, "epochs": times, "seen": seen, "n": n, "layers": meta_layers}
    meta["examples"] = [int(i) for i in picked]  # each point's held-out example: what views link by
    meta["layout"] = contract.sample_layout(n, count, thumbnails.shape[1])
    meta["every_snapshot"] = kind.every_snapshot  # else the reader's point is the trained model's only
    if "texts" in preview:
        meta["texts"] = preview["texts"]  # what a point's hover shows of a text
    bases = {name: info["basis"] for name, info in recorded["layers"].items()}
    attacks = (
        adversarial.record_attacks(network, dataset, attack_settings, bases, dataset.classes) if kind.attacks else None
    )
    summary_attacks = None
    if attacks:
        attack_files, meta["attacks"] = attack_paths(model, attacks)
        files |= attack_files
        summary_attacks = attack_summary(attacks, recorded, dataset.classes)
    files[contract.site_path("tour_meta", model=model)] = json.dumps(meta).encode()
    summary = {
        "epochs": times,  # when each snapshot was taken (0 = before training)
        "seen": seen,
        "snapshots": count,
        # How many of the sample the network read correctly at each snapshot.
        "accuracy": (recorded["predictions"] == recorded["labels"]).mean(1).tolist(),
        "sample_size": n,
        "layers": [m["name"] for m in meta_layers],  # what a figure or a link may show
        "dims": settings["dims"],
        "variance_kept": {m["name"]: m["variance_kept"] for m in meta_layers if m["reduced"]},
        "adversarial": summary_attacks,
        # The reader's own attack in the page: the same bound and steps (none when turned off).
        "attack": adversarial.step_sizes(attack_settings["epsilon"], attack_settings["steps"])
        if attack_settings["count"] and kind.attacks
        else None,
    }
    return {"files": files, "summary": summary}


def layer_files(model: str, layers: dict) -> tuple[dict, list]:
    """Each layer's reduced points (float16, (snapshots, n, dims)) and basis (float32, mean then
    components), with the layer's entry in meta.json."""
    files, meta_layers = {}, []
    for layer, info in layers.items():
        files[contract.site_path("tour_layer", model=model, layer=layer)] = info["values"].astype("<f2").tobytes()
        if info["basis"] is not None:
            basis = np.concatenate([info["basis"]["mean"][None], info["basis"]["components"]])  # (1 + dims, width)
            files[contract.site_path("tour_basis", model=model, layer=layer)] = basis.astype("<f4").tobytes()
        meta_layers.append(
            {
                "name": layer,
                "width": info["width"],
                "dims": info["values"].shape[2],
                "reduced": info["basis"] is not None,
                "scale": info["scale"],
                "variance_kept": info["variance_kept"],
            }
        )
    return files, meta_layers


def snapshot_models(network, snapshots: list, shape) -> dict:
    """One ONNX file per snapshot of the weights, for the reader's point; the network is left
    with the last snapshot's weights."""
    files = {}
    for index, state in enumerate(snapshots):
        network.load_weights(state)
        files[contract.site_path("tour_snapshot_model", model=network.name, snapshot=index)] = export.export_onnx(
            network, shape
        )
    network.load_weights(snapshots[-1])
    return files


def attack_paths(model: str, attacks: dict) -> tuple[dict, dict]:
    """Each method's steps through every layer (float16, one layer after another) and final
    images (uint8), with meta.json's description of them."""
    files = {}
    meta = {key: attacks[key] for key in ("source", "target", "count")} | {"methods": {}}
    for method, found in attacks["methods"].items():
        offsets, offset = {}, 0
        for name, values in found["layers"].items():
            offsets[name] = [offset, values.size]
            offset += values.size
        files[contract.site_path("tour_attack", model=model, method=method)] = b"".join(
            v.astype("<f2").tobytes() for v in found["layers"].values()
        )
        files[contract.site_path("tour_attack_images", model=model, method=method)] = found["images"].tobytes()
        meta["methods"][method] = {
            "steps": found["steps"],
            "offsets": offsets,
            "predictions": found["predictions"].tolist(),
            "success": found["success"],
        }
    return files, meta


def attack_summary(attacks: dict, recorded: dict, classes: list[str]) -> dict:
    """What the prose quotes of the attacks: classes, success per step, where they sit per layer."""
    return {
        "source": classes[attacks["source"]],
        "target": classes[attacks["target"]],
        "count": attacks["count"],
        "epsilon": attacks["epsilon"],
        "fgsm_success": attacks["methods"]["fgsm"]["success"][-1],
        "pgd_success": attacks["methods"]["pgd"]["success"],
        "pgd_steps": attacks["methods"]["pgd"]["steps"],
        "layers": adversarial.where_they_sit(attacks, recorded["layers"], recorded["labels"]),
    }
