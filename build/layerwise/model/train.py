"""One training loop for every model, and one way to measure a model on the held-out split.

The loss follows from the model's last layer, so no model needs code of its own:
a final Softmax -> cross-entropy on its input (the logits); Sigmoid -> one binary cross-entropy
per class (one-vs-rest: each output is its own logistic neuron); LogSoftmax -> negative
log-likelihood; anything else -> its output are logits, cross-entropy. A model that predicts at
every position (next-token, (N, T, V)) is judged at every position: each is an example.
Text of several lengths (classify: rows right-padded with -1) is batched a length at a time.
"""

import contextlib
import time

import torch
import torch.nn.functional as F
from tqdm import tqdm

from . import workers
from .models import Network


def pick_device(setting: str) -> torch.device:
    """'auto' is CUDA when this machine has it; everything also runs on the CPU."""
    if setting == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    return torch.device(setting)


def per_example(*tensors: torch.Tensor) -> list[torch.Tensor]:
    """Predictions at every position as examples of their own: (N, T, V) -> (N*T, V) and targets
    (N, T) -> (N*T,), so one loss and one accuracy serve every task; (N, K) and (N,) stay."""
    y = tensors[-1]
    if y.dim() == 1:
        return list(tensors)
    return [t.flatten(0, 1) for t in tensors]


def loss_of(network: Network, logits: torch.Tensor, output: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    logits, output, y = per_example(logits, output, y)
    if network.head == "sigmoid":
        return F.binary_cross_entropy_with_logits(logits, F.one_hot(y, logits.shape[1]).float())
    if network.head == "log_softmax":
        return F.nll_loss(output, y)
    return F.cross_entropy(logits, y)


def class_log_probabilities(network: Network, logits: torch.Tensor, output: torch.Tensor):
    """log p(class | example), where the model gives a distribution over classes (not one-vs-rest)."""
    if network.head == "sigmoid":
        return None
    if network.head == "log_softmax":
        return output
    return F.log_softmax(logits, dim=-1)


PAD = -1  # what follows a shorter text in a row of tokens (sources/text.py); no model reads it


def batches_of(x: torch.Tensor, order: torch.Tensor, size: int, generator=None) -> list[torch.Tensor]:
    """`order` in batches of up to `size`; where rows are texts of several lengths (padded), each
    batch holds one length (trimmed reads it), and the batches come shuffled by `generator`."""
    if x.is_floating_point() or not (x == PAD).any():
        return list(order.split(size))
    lengths = (x[order] != PAD).sum(1)  # (N,)
    batches = [b for n in lengths.unique() for b in order[lengths == n].split(size)]
    shuffled = torch.randperm(len(batches), generator=generator) if generator is not None else range(len(batches))
    return [batches[i] for i in shuffled]


@contextlib.contextmanager
def one_thread():
    """torch on one thread for the duration: small batches of text on a busy two-core machine run
    faster so than with two threads spinning (a recording of the languages article: 15.8 s, 1.6 s on one)."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(threads)


def trimmed(x: torch.Tensor) -> torch.Tensor:
    """A batch of texts of one length without its padding: (N, T) -> (N, length)."""
    return x if x.is_floating_point() else x[:, : int((x[0] != PAD).sum())]


@torch.no_grad()
def predict(network: Network, x: torch.Tensor, batch: int = 1000) -> tuple[torch.Tensor, torch.Tensor]:
    """(logits, output) for every example, in batches, on the module's device; returned on the CPU."""
    network.eval()
    batches = batches_of(x, torch.arange(len(x)), batch)
    parts = [network.logits_and_output(trimmed(x[b]).to(network.device)) for b in batches]
    where = torch.cat(batches).argsort()  # each example back in its place
    return torch.cat([p[0] for p in parts]).cpu()[where], torch.cat([p[1] for p in parts]).cpu()[where]


def evaluate(network: Network, x: torch.Tensor, y: torch.Tensor, n_classes: int) -> dict:
    logits, output = predict(network, x)
    return measures(network, logits, output, y, n_classes)


def measures(network: Network, logits, output, y: torch.Tensor, n_classes: int) -> dict:
    """Held-out loss and accuracy, overall and per class, from a model's outputs."""
    correct = output.argmax(-1) == y
    log_p = class_log_probabilities(network, logits, output)
    return {
        "loss": loss_of(network, logits, output, y).item(),
        "accuracy": correct.float().mean().item(),
        "per_class_accuracy": [correct[y == c].float().mean().item() for c in range(n_classes)],
        "per_class_loss": [
            None if log_p is None else F.nll_loss(log_p[y == c], y[y == c]).item() for c in range(n_classes)
        ],
    }


def shift_randomly(images: torch.Tensor, max_shift: int, generator: torch.Generator) -> torch.Tensor:
    """Translate each image by up to max_shift pixels: digits are centred only roughly."""
    if max_shift == 0:
        return images
    n, c, h, w = images.shape
    padded = F.pad(images, (max_shift,) * 4)  # (N, C, H + 2s, W + 2s)
    dx, dy = torch.randint(0, 2 * max_shift + 1, (2, n), generator=generator)
    rows = torch.arange(h)[None, :] + dy[:, None]  # (N, H)
    cols = torch.arange(w)[None, :] + dx[:, None]  # (N, W)
    index, channel = torch.arange(n)[:, None, None, None], torch.arange(c)[None, :, None, None]
    return padded[index, channel, rows[:, None, :, None], cols[:, None, None, :]]  # (N, C, H, W)


def snapshot(network: Network) -> dict:
    return {k: v.detach().cpu().clone() for k, v in network.module.state_dict().items()}


def snapshot_batches(batches: int, parts: int) -> set[int]:
    """After which batches of the first epoch to keep the weights: `parts` evenly spaced
    (the last one is the epoch's end, kept anyway)."""
    return {round(k * batches / parts) for k in range(1, parts)} - {0, batches}


def train_model(network: Network, data, settings: dict) -> dict:
    """Train on `data`; return metrics after every epoch (0 = untrained) and the weights after
    every epoch, and `first_epoch_snapshots` times within the first, where most learning happens
    (`snapshot_epochs`, `snapshot_seen`: when each was taken, in epochs and in examples seen)."""
    torch.manual_seed(settings["seed"])
    for layer in network.module.modules():  # re-initialise from the seed, whatever built the model
        if hasattr(layer, "reset_parameters"):
            layer.reset_parameters()
    device = pick_device(settings["device"])
    network.module.to(device)
    generator = torch.Generator().manual_seed(settings["seed"])
    optimizer = torch.optim.Adam(network.module.parameters(), lr=settings["learning_rate"])
    n_classes = len(data.classes)
    epochs = [{"epoch": 0, "seconds": 0.0, **evaluate(network, data.test_x, data.test_y, n_classes)}]
    snapshots, snapshot_epochs, snapshot_seen, seen = [snapshot(network)], [0.0], [0], 0
    # Cosine decay lets the last epochs settle instead of bouncing around the optimum.
    schedule = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=settings["epochs"])
    # In a worker no bar: two processes' bars would overwrite each other (each stage says its line).
    # Elsewhere `disable` is not passed: an argument overrides tqdm's TQDM_DISABLE, which the command
    # line sets for a log or --quiet (disable=False drew every bar's redraws into a build's log).
    numbers = range(1, settings["epochs"] + 1)
    off = {"disable": True} if workers.in_worker() else {}
    bar = tqdm(numbers, desc=f"train {network.name}", unit="epoch", leave=True, **off)
    for epoch in bar:
        start = time.perf_counter()
        network.module.train()
        order = torch.randperm(len(data.train_x), generator=generator)
        total = 0.0
        batches = batches_of(data.train_x, order, settings["batch_size"], generator)
        within = snapshot_batches(len(batches), settings["first_epoch_snapshots"]) if epoch == 1 else set()
        for done, batch in enumerate(batches, 1):
            images = shift_randomly(trimmed(data.train_x[batch]), settings["augment_shift"], generator).to(device)
            labels = data.train_y[batch].to(device)
            logits, output = network.logits_and_output(images)
            loss = loss_of(network, logits, output, labels)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            total += loss.item() * len(batch)
            seen += len(batch)
            if done in within or done == len(batches):
                snapshots.append(snapshot(network))
                snapshot_epochs.append(epoch - 1 + done / len(batches))
                snapshot_seen.append(seen)
        schedule.step()
        seconds = time.perf_counter() - start
        metrics = evaluate(network, data.test_x, data.test_y, n_classes)
        epochs.append({"epoch": epoch, "seconds": seconds, "train_loss": total / len(order), **metrics})
        bar.set_postfix(loss=f"{total / len(order):.3f}", test_acc=f"{metrics['accuracy']:.2%}")
    network.module.cpu()
    return {
        "epochs": epochs,
        "snapshots": snapshots,
        "snapshot_epochs": snapshot_epochs,
        "snapshot_seen": snapshot_seen,
        "seconds": sum(e["seconds"] for e in epochs),
    }


def measure_brought_in(network: Network, data) -> dict:
    """A model trained elsewhere: measured once on the held-out split, its weights as they came."""
    metrics = evaluate(network, data.test_x, data.test_y, len(data.classes))
    weights = snapshot(network) if isinstance(network, Network) else {}  # an ONNX file keeps its own
    return {
        "epochs": [{"epoch": 0, "seconds": 0.0, **metrics}],
        "snapshots": [weights],
        "snapshot_epochs": [0.0],
        "snapshot_seen": [0],
        "seconds": 0.0,
    }
