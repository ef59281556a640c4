"""Classification with random vs learned filters: Gilbert et al. (2017) §4.1, Table 1 (SPEC §6).

Their networks: 1, 2 or 3 layers of conv → ReLU → batch norm → 2×2 max pooling, then a linear classifier. With
*random* filters the convolutions are drawn once from N(0, 1) and frozen (biases zero), the batch norm only
estimates its statistics (no affine parameters) and only the classifier is trained; with *learned* filters
everything is trained (Kaiming-normal start, batch norm with its affine parameters). Same widths, kernel,
optimiser (Adam), batches and epochs for both.

Offline the data set is Fashion-MNIST (:func:`rdcn.data.fashion_mnist`); where ``data_dir`` holds torchvision's
CIFAR-10 (a ``cifar-10-batches-py`` folder) it is CIFAR-10, the paper's. Every random choice (filters, subsets,
batch order) comes from one seeded ``torch.Generator``.
"""
from __future__ import annotations

from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn
from tqdm.auto import tqdm

from ..core import data
from ..core.random_weights import as_generator

KINDS = ("random", "learned")
CIFAR_FOLDER = "cifar-10-batches-py"


def dataset_name(data_dir: str = "") -> str:
    """``"CIFAR-10"`` where ``data_dir`` holds torchvision's CIFAR-10 (``data_dir/cifar-10-batches-py``), else
    ``"Fashion-MNIST"``. A ``data_dir`` that is given but is not a folder is an error."""
    if not data_dir:
        return "Fashion-MNIST"
    root = Path(data_dir).expanduser()
    if not root.is_dir():
        raise FileNotFoundError(f"data_dir {str(data_dir)!r} is not a folder")
    return "CIFAR-10" if (root / CIFAR_FOLDER).is_dir() else "Fashion-MNIST"


def load_split(train: bool, n: int, data_dir: str = "", generator: int | torch.Generator = 0
               ) -> tuple[torch.Tensor, torch.Tensor]:
    """``n`` images (a seeded random subset) of the training or test split, as N×C×H×W float in [0, 1], and labels."""
    if dataset_name(data_dir) == "CIFAR-10":
        from torchvision.datasets import CIFAR10

        split = CIFAR10(str(Path(data_dir).expanduser()), train=train, download=False)
        images, labels = torch.from_numpy(split.data).permute(0, 3, 1, 2), torch.as_tensor(split.targets)
    else:
        split = data.fashion_mnist(train)
        images, labels = split.data[:, None], split.targets
    if isinstance(n, bool) or not isinstance(n, int) or not 1 <= n <= len(images):
        raise ValueError(f"n must be an integer in [1, {len(images)}] (the split's size), got {n!r}")
    index = torch.randperm(len(images), generator=as_generator(generator))[:n]
    return images[index].float() / 255.0, labels[index].long()


class ConvNet(nn.Module):
    """``len(widths)`` layers of conv (kernel ``kernel``, 'same') → ReLU → BatchNorm → 2×2 max pool, then a linear
    classifier on the flattened maps. ``kind="random"``: BatchNorm without affine parameters."""

    def __init__(self, in_channels: int, image_size: int, widths, kernel: int, kind: str, classes: int = 10):
        super().__init__()
        if kind not in KINDS:
            raise ValueError(f"kind must be one of {list(KINDS)}, got {kind!r}")
        if not widths or any(isinstance(w, bool) or not isinstance(w, int) or w < 1 for w in widths):
            raise ValueError(f"widths must be a non-empty sequence of positive integers, got {widths!r}")
        if isinstance(kernel, bool) or not isinstance(kernel, int) or kernel < 1 or kernel % 2 == 0:
            raise ValueError(f"kernel must be an odd positive integer, got {kernel!r}")
        self.kind = kind
        modules, c, size = [], in_channels, image_size
        for w in widths:
            modules += [nn.Conv2d(c, w, kernel, padding=kernel // 2), nn.ReLU(),
                        nn.BatchNorm2d(w, affine=kind == "learned"), nn.MaxPool2d(2)]
            c, size = w, size // 2
        if size < 1:
            raise ValueError(f"{len(widths)} poolings do not fit a {image_size}-pixel image")
        self.features = nn.Sequential(*modules)
        self.head = nn.Linear(c * size * size, classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.features(x).flatten(1))


@torch.no_grad()
def initialise_(model: ConvNet, generator: torch.Generator) -> ConvNet:
    """Random: conv filters i.i.d. N(0, 1) (Gilbert et al.), frozen. Learned: Kaiming-normal start. Biases and
    the classifier start at zero."""
    for module in model.features:
        if isinstance(module, nn.Conv2d):
            if model.kind == "random":
                nn.init.normal_(module.weight, 0.0, 1.0, generator=generator)
                module.requires_grad_(False)
            else:
                nn.init.kaiming_normal_(module.weight, nonlinearity="relu", generator=generator)
            module.bias.zero_()
    model.head.weight.zero_(), model.head.bias.zero_()
    return model


@torch.no_grad()
def fit_batchnorm_(model: ConvNet, images: torch.Tensor, batch: int, device: str) -> ConvNet:
    """The population statistics of every BatchNorm of ``model`` on ``images``, layer by layer (each one's
    statistics taken with the layers below it already fixed), then eval mode."""
    model.eval()
    for bn in [m for m in model.features if isinstance(m, nn.BatchNorm2d)]:
        bn.reset_running_stats()
        bn.momentum = None  # cumulative average over the batches
        bn.train()
        for start in range(0, len(images), batch):
            model.features(images[start : start + batch].to(device))
        bn.eval()
    return model


@torch.no_grad()
def accuracy(model: nn.Module, images: torch.Tensor, labels: torch.Tensor, device: str, chunk: int = 1000) -> float:
    """Top-1 accuracy of ``model`` (eval mode) on ``images``."""
    model.eval()
    correct = sum(int((model(images[i : i + chunk].to(device)).argmax(1).cpu() == labels[i : i + chunk]).sum())
                  for i in range(0, len(images), chunk))
    return correct / len(images)


def _epochs(parameters, inputs, labels, forward, epochs, batch, lr, generator, desc):
    """Adam from ``lr``, annealed to 0 along a cosine over all the steps; seeded batch order."""
    optimizer = torch.optim.Adam(parameters, lr=lr)
    schedule = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=epochs * -(-len(inputs) // batch))
    for _ in tqdm(range(epochs), desc=desc, leave=False):
        order = torch.randperm(len(inputs), generator=generator)
        for start in range(0, len(inputs), batch):
            index = order[start : start + batch]
            loss = F.cross_entropy(forward(inputs[index]), labels[index])
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            schedule.step()


def train(model: ConvNet, images: torch.Tensor, labels: torch.Tensor, epochs: int, batch: int, lr: float,
          generator: int | torch.Generator, device: str = "cpu", statistics_images: int = 5000) -> ConvNet:
    """Train ``model`` in place (Adam, cross-entropy, ``epochs`` passes in seeded order, the learning rate
    annealed from ``lr`` to 0 along a cosine, so the last iterate is not a noisy one). Random filters: the
    BatchNorm statistics are fitted once on the first ``statistics_images`` images (:func:`fit_batchnorm_`), the
    frozen features computed once, and only the classifier trained on them. Learned filters: the whole network,
    in train mode."""
    gen = as_generator(generator)
    initialise_(model, gen)
    model.to(device)
    labels = labels.to(device)
    if model.kind == "random":
        fit_batchnorm_(model, images[:statistics_images], batch, device)
        with torch.no_grad():
            features = torch.cat([model.features(images[i : i + 1000].to(device)).flatten(1)
                                  for i in range(0, len(images), 1000)])
        _epochs(model.head.parameters(), features, labels, model.head, epochs, batch, lr, gen,
                f"random filters, {len(model.features) // 4} layer(s)")
    else:
        model.train()
        _epochs(model.parameters(), images.to(device), labels, model, epochs, batch, lr, gen,
                f"learned filters, {len(model.features) // 4} layer(s)")
    return model.eval()


def compare(depths, widths, kernel: int, train_images: int, test_images: int, epochs: int, batch: int, lr: float,
            seed: int = 0, data_dir: str = "", device: str = "cpu") -> dict:
    """Gilbert et al. Table 1: test accuracy of random vs learned filters for each depth in ``depths`` (the first
    ``depth`` of ``widths``). Returns {dataset, chance, accuracy: {depth: {random, learned}}}."""
    if not depths or any(isinstance(d, bool) or not isinstance(d, int) or not 1 <= d <= len(widths) for d in depths):
        raise ValueError(f"depths must be integers in [1, {len(widths)}] (the number of widths), got {depths!r}")
    gen = as_generator(seed)
    x_train, y_train = load_split(True, train_images, data_dir, gen)
    x_test, y_test = load_split(False, test_images, data_dir, gen)
    results = {}
    for depth in depths:
        results[depth] = {}
        for kind in KINDS:
            model = ConvNet(x_train.shape[1], x_train.shape[-1], tuple(widths[:depth]), kernel, kind)
            train(model, x_train, y_train, epochs, batch, lr, gen, device)
            results[depth][kind] = accuracy(model, x_test, y_test, device)
    classes = int(y_train.max()) + 1
    return dict(dataset=dataset_name(data_dir), chance=1 / classes, accuracy=results)
