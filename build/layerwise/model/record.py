"""Every shown layer's activations for a fixed sample of held-out examples, at every snapshot
of the weights (after each epoch, and several times within the first).

This is what the Grand Tour shows. Layers wider than `dims` are reduced first, the same way at
every snapshot: onto the top principal components of that layer's activations after the last
epoch (centred on their mean). A fixed basis means motion across snapshots is the network
changing, not the basis. Layers of `dims` or fewer (the ten logits, the softmax) are kept as
they are, so their axes still mean "class 3".
"""

import numpy as np
import torch

from .data import stratified_split


def sample_indices(labels: torch.Tensor, size: int, seed: int) -> np.ndarray:
    """A stratified sample of `size` examples (all of them if there are fewer)."""
    if size >= len(labels):
        return np.arange(len(labels))
    _, picked = stratified_split(labels.numpy(), size / len(labels), seed)
    return picked


@torch.no_grad()
def layer_outputs(network, images: torch.Tensor, batch: int = 1000) -> dict[str, np.ndarray]:
    """{'input': pixels, layer name: output}, each flattened to (N, width)."""
    network.eval()
    parts = [network.outputs(chunk.to(network.device)) for chunk in images.split(batch)]
    outputs = {"input": images.flatten(1).numpy()}
    for name in parts[0]:
        outputs[name] = torch.cat([p[name] for p in parts]).flatten(1).cpu().numpy()  # (N, width)
    return outputs


def principal_basis(final: np.ndarray, dims: int) -> tuple[np.ndarray, np.ndarray]:
    """(mean, components): the top `dims` principal directions of the final epoch's activations,
    from the smaller of the two Gram matrices (N x N or width x width), not a full SVD: 5,760
    wide by 1,000, that is 0.2 s instead of 1."""
    mean = final.mean(0, dtype=np.float64)
    centred = final - mean  # (N, width), float64
    if centred.shape[0] < centred.shape[1]:
        _, u = np.linalg.eigh(centred @ centred.T)  # ascending; columns: the left singular vectors
        components = u[:, ::-1][:, :dims].T @ centred
        norms = np.linalg.norm(components, axis=1, keepdims=True)
        if norms.min() <= 1e-9 * norms.max():  # fewer directions with variance than dims: any will do
            components = np.linalg.svd(centred, full_matrices=False)[2][:dims]
        else:
            components /= norms
    else:
        _, v = np.linalg.eigh(centred.T @ centred)
        components = v[:, ::-1][:, :dims].T
    # Fix each component's sign (largest coordinate positive) so rebuilds give the same picture.
    signs = np.sign(components[np.arange(len(components)), np.abs(components).argmax(1)])
    return mean.astype(np.float32), (components * signs[:, None]).astype(np.float32)


def alignments(layers: dict) -> np.ndarray:
    """For each snapshot and each pair of consecutive layers (a, b), the rotation R that best
    carries a's cloud onto b's (orthogonal Procrustes: R = U V^T for U S V^T = A^T B, both
    centred, scaled to their spread, padded to the widest layer's dims). The page shows b under
    R^T times the tour's rotation, so a layer change moves the points only as much as the layer
    changes them beyond a rotation: a layer that rotates or flips its input does not move them,
    one that scales it moves them along the scaled axes only. (snapshots, layers - 1, D, D) float32."""
    names = list(layers)
    values = [layers[n]["values"].astype(np.float64) for n in names]  # each (snapshots, N, dims)
    snapshots, _, _ = values[0].shape
    dims = max(v.shape[2] for v in values)
    out = np.zeros((snapshots, len(names) - 1, dims, dims), dtype=np.float32)
    for e in range(snapshots):
        clouds = []
        for v, name in zip(values, names):
            cloud = np.zeros((v.shape[1], dims))
            cloud[:, : v.shape[2]] = (v[e] - v[e].mean(0)) / (layers[name]["scale"][e] or 1)
            clouds.append(cloud)
        for i in range(len(names) - 1):
            u, _, vt = np.linalg.svd(clouds[i].T @ clouds[i + 1])
            out[e, i] = u @ vt
    return out


def record_activations(
    network, snapshots: list[dict], examples: torch.Tensor, labels: torch.Tensor, dims: int, vectors=None
) -> dict:
    """Activations of `examples` at every layer with every snapshot's weights, reduced to <= dims.
    `vectors(network, examples)` gives each example's vector per layer (representation.py's for
    its kind of data; by default the images' flattened outputs).
    The last snapshot's activations give the bases; each snapshot is reduced as soon as it is
    run, so the full-width activations of only one snapshot are ever held (the first
    convolution's over all its snapshots would be 650 MB)."""
    vectors = vectors or layer_outputs
    network.load_weights(snapshots[-1])
    final = vectors(network, examples)
    bases = {name: principal_basis(values, dims) if values.shape[1] > dims else None for name, values in final.items()}
    reduced, predictions = {name: [] for name in final}, []
    for state in snapshots:
        network.load_weights(state)
        outputs = vectors(network, examples)
        predictions.append(outputs[list(outputs)[-1]].argmax(1))
        for name, values in outputs.items():  # each (N, width)
            basis = bases[name]
            reduced[name].append(values if basis is None else (values - basis[0]) @ basis[1].T)  # (N, <= dims)
    layers = {}
    for name, values in final.items():
        stacked = np.stack(reduced[name])  # (snapshots, N, dims)
        basis = bases[name]
        norms = np.linalg.norm(stacked, axis=2)
        layers[name] = {
            "width": values.shape[1],
            "values": stacked.astype(np.float16),
            "basis": None if basis is None else {"mean": basis[0], "components": basis[1]},
            # Per snapshot, the spread of the cloud: the page scales each to fit the view.
            "scale": np.percentile(norms, 98, axis=1).astype(float).tolist(),
            "variance_kept": None if basis is None else float(np.var(stacked[-1], 0).sum() / np.var(values, 0).sum()),
        }
    return {
        "labels": labels.numpy().astype(np.uint8),
        "predictions": np.stack(predictions).astype(np.uint8),
        "layers": layers,
    }
