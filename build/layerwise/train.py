"""One training loop for every model in the ladder.

The loss follows from the model's last layer, so no model needs code of its own:
Softmax -> cross-entropy on its input (the logits); Sigmoid -> one binary cross-entropy per
class (one-vs-rest: each output is its own logistic neuron); anything else -> cross-entropy.
"""

import time

import torch
import torch.nn.functional as F
from torch import nn
from tqdm import tqdm


def loss_and_output(model: nn.Sequential, x: torch.Tensor, y: torch.Tensor):
    last = model[-1]
    if isinstance(last, (nn.Softmax, nn.Sigmoid)):
        logits = model[:-1](x)
        output = last(logits)
        if isinstance(last, nn.Sigmoid):
            target = F.one_hot(y, logits.shape[1]).float()
            return F.binary_cross_entropy_with_logits(logits, target), output
        return F.cross_entropy(logits, y), output
    output = model(x)
    return F.cross_entropy(output, y), output


@torch.no_grad()
def evaluate(model: nn.Sequential, x: torch.Tensor, y: torch.Tensor, n_classes: int) -> dict:
    model.eval()
    loss, output = loss_and_output(model, x, y)
    correct = output.argmax(1) == y
    per_class_loss = [
        F.cross_entropy(torch.log(output[y == c].clamp_min(1e-12)), y[y == c]).item()
        if isinstance(model[-1], nn.Softmax)
        else None
        for c in range(n_classes)
    ]
    return {
        "loss": loss.item(),
        "accuracy": correct.float().mean().item(),
        "per_class_accuracy": [correct[y == c].float().mean().item() for c in range(n_classes)],
        "per_class_loss": per_class_loss,
    }


def shift_randomly(images: torch.Tensor, max_shift: int, generator: torch.Generator):
    """Translate each image by up to max_shift pixels: MNIST digits are centred only roughly."""
    if max_shift == 0:
        return images
    padded = F.pad(images, (max_shift,) * 4)
    dx, dy = torch.randint(0, 2 * max_shift + 1, (2, len(images)), generator=generator)
    rows = torch.arange(images.shape[-1])
    index = torch.arange(len(images))[:, None, None]
    shifted = padded[index, 0, (rows[None, :] + dy[:, None])[:, :, None], (rows[None, :] + dx[:, None])[:, None, :]]
    return shifted.unsqueeze(1)


def train_model(name: str, model: nn.Sequential, data, settings: dict) -> dict:
    """Train `model` on `data`; return its metrics and weights after every epoch (0 = untrained)."""
    torch.manual_seed(settings["seed"])
    for layer in model.children():  # re-initialise from the seed, whatever built the model
        if hasattr(layer, "reset_parameters"):
            layer.reset_parameters()
    generator = torch.Generator().manual_seed(settings["seed"])
    optimizer = torch.optim.Adam(model.parameters(), lr=settings["learning_rate"])
    n_classes = len(data.classes)
    epochs = [{"epoch": 0, "seconds": 0.0, **evaluate(model, data.test_x, data.test_y, n_classes)}]
    snapshots = [{k: v.clone() for k, v in model.state_dict().items()}]
    # Cosine decay lets the last epochs settle instead of bouncing around the optimum.
    schedule = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=settings["epochs"])
    bar = tqdm(range(1, settings["epochs"] + 1), desc=f"train {name}", unit="epoch", leave=True)
    for epoch in bar:
        start = time.perf_counter()
        model.train()
        order = torch.randperm(len(data.train_x), generator=generator)
        total = 0.0
        for batch in order.split(settings["batch_size"]):
            images = shift_randomly(data.train_x[batch], settings["augment_shift"], generator)
            loss, _ = loss_and_output(model, images, data.train_y[batch])
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            total += loss.item() * len(batch)
        schedule.step()
        seconds = time.perf_counter() - start
        metrics = evaluate(model, data.test_x, data.test_y, n_classes)
        epochs.append({"epoch": epoch, "seconds": seconds, "train_loss": total / len(order), **metrics})
        snapshots.append({k: v.clone() for k, v in model.state_dict().items()})
        bar.set_postfix(loss=f"{total / len(order):.3f}", test_acc=f"{metrics['accuracy']:.2%}")
    return {"name": name, "epochs": epochs, "snapshots": snapshots, "seconds": sum(e["seconds"] for e in epochs)}
