"""Classification with random vs learned filters: Gilbert et al. (2017) §4.1, Table 1.

Their networks: 1, 2 or 3 layers of conv → ReLU → batch norm → 2×2 max pooling, then a linear classifier. With
*random* filters the convolutions are drawn once from N(0, 1) and frozen (biases zero), the batch norm only
estimates its statistics (no affine parameters) and only the classifier is trained; with *learned* filters
everything is trained (Kaiming-normal start, batch norm with its affine parameters). Same widths, kernel,
optimiser, batches and epochs for both: Adam with the learning rate annealed to 0 along a cosine, in seeded
epochs, through the package's one training loop (:func:`rdcn.core.training.fit`).

Within one replicate the random networks of depths 1, 2, 3 are the first blocks of one random stack (so the
depths are compared on the same filters), and each depth has its own trained classifier; each learned network is
trained on its own. Replicates differ in every random choice of the networks (filters, initial weights, batch
order: seeds from :func:`rdcn.core.seeds.derive_many`), never in the data, a seeded subset shared by all.

The data set is CIFAR-10 where ``data_dir`` holds it (``data_dir/cifar-10-batches-py``, read by the safe reader
:func:`rdcn.core.data.cifar10`), else Fashion-MNIST (:func:`rdcn.core.data.fashion_mnist`).
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import partial
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from ..core import checks, data, seeds, training
from ..core.random_weights import as_generator

KINDS = ("random", "learned")
#: Gilbert et al., Table 1 (quoted): CIFAR-10 test accuracy of random and learned filters at 1, 2 and 3 layers.
PAPER_TABLE_1 = {1: (0.665, 0.681), 2: (0.746, 0.833), 3: (0.748, 0.893)}
#: The fractions of the classifiers' training at which their test accuracy is read (the last is the end).
FRACTIONS = (0.0, 0.25, 0.5, 0.75, 1.0)


def dataset_name(data_dir: str = "") -> str:
    """``"CIFAR-10"`` where ``data_dir`` holds it (``data_dir/cifar-10-batches-py``), else ``"Fashion-MNIST"``.
    A ``data_dir`` that is given but is not a folder is an error."""
    if not data_dir:
        return "Fashion-MNIST"
    root = Path(data_dir).expanduser()
    if not root.is_dir():
        raise FileNotFoundError(f"data_dir {str(data_dir)!r} is not a folder")
    return "CIFAR-10" if (root / data.CIFAR_FOLDER).is_dir() else "Fashion-MNIST"


def load_split(train: bool, n: int, data_dir: str = "", generator: torch.Generator | int = 0
               ) -> tuple[torch.Tensor, torch.Tensor]:
    """``n`` images (a seeded random subset) of the training or test split, as N×C×H×W float in [0, 1], and labels."""
    if dataset_name(data_dir) == "CIFAR-10":
        images, labels = data.cifar10(data_dir, train)
    else:
        split = data.fashion_mnist(train)
        images, labels = split.data[:, None], split.targets
    if checks.positive_int("n", n) > len(images):
        raise ValueError(f"n must be an integer in [1, {len(images)}] (the split's size), got {n!r}")
    generator = as_generator(generator)
    index = torch.randperm(len(images), generator=generator)[:n]
    return images[index].float() / 255.0, labels[index].long()


class ConvNet(nn.Module):
    """``len(widths)`` layers of conv (kernel ``kernel``, 'same') → ReLU → BatchNorm → 2×2 max pool, then a linear
    classifier on the flattened maps. ``kind="random"``: BatchNorm without affine parameters."""

    def __init__(self, in_channels: int, image_size: int, widths, kernel: int, kind: str, classes: int = 10):
        super().__init__()
        self.kind = checks.choice("kind", kind, KINDS)
        widths = checks.positive_ints("widths", widths)
        if checks.positive_int("kernel", kernel) % 2 == 0:
            raise ValueError(f"kernel must be an odd positive integer, got {kernel!r}")
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


@torch.no_grad()
def block_features(model: ConvNet, images: torch.Tensor, device: str, chunk: int = 1000) -> list[torch.Tensor]:
    """The flattened output of every block (conv → ReLU → BatchNorm → pool) of ``model`` on ``images``: one
    N×features tensor per depth, computed in one pass (on the CPU)."""
    model.eval()
    depths: list[list[torch.Tensor]] = [[] for _ in range(len(model.features) // 4)]
    for start in range(0, len(images), chunk):
        h = images[start : start + chunk].to(device)
        for depth in range(len(depths)):
            h = model.features[4 * depth : 4 * depth + 4](h)
            depths[depth].append(h.flatten(1).cpu())
    return [torch.cat(parts) for parts in depths]


def schedule(items: int, epochs: int, batch: int, lr: float) -> training.Schedule:
    """``epochs`` passes over ``items`` items in batches of ``batch``, Adam from ``lr`` annealed to 0 along a
    cosine."""
    iterations = checks.positive_int("epochs", epochs) * training.iterations_per_epoch(items, batch)
    return training.Schedule(iterations, batch, lr, decay="cosine")


def _train(modules: dict[str, nn.Module], forward, inputs: torch.Tensor, labels: torch.Tensor, plan: training.Schedule,
           generator: torch.Generator, evaluate, device: str, desc: str) -> list[float]:
    """Train with :func:`rdcn.core.training.fit` in seeded epochs; ``evaluate()`` (the test accuracy, in eval
    mode) at each of the :data:`FRACTIONS` of the iterations (rounded; the first before any update)."""
    marks = [max(1, round(f * plan.iterations)) for f in FRACTIONS[1:]]

    def evaluated() -> float:
        modes = {name: module.training for name, module in modules.items()}
        for module in modules.values():
            module.eval()
        value = evaluate()
        for name, module in modules.items():
            module.train(modes[name])
        return value

    curve = [evaluated()]

    def callback(done: int) -> None:
        curve.extend(evaluated() for mark in marks if mark == done)

    def loss(index: torch.Tensor) -> torch.Tensor:
        return F.cross_entropy(forward(training.to_device(inputs[index], device)),
                               training.to_device(labels[index], device))

    training.fit(modules, loss, len(inputs), plan, generator, sampling="epochs", callback=callback, desc=desc)
    return curve


def train_learned(depth_widths, kernel: int, train: tuple, test: tuple, plan: training.Schedule, seed: int,
                  device: str = "cpu") -> list[float]:
    """A learned-filter :class:`ConvNet` of ``depth_widths`` trained from the seed ``seed`` on ``train`` (images,
    labels); its accuracy on ``test`` at every evaluation of ``plan`` and at the end."""
    (x, y), (x_test, y_test) = train, test
    model = ConvNet(x.shape[1], x.shape[-1], tuple(depth_widths), kernel, "learned")
    generator = as_generator(seed)
    initialise_(model, generator).to(device)
    return _train(dict(model=model), model, x, y, plan, generator, lambda: accuracy(model, x_test, y_test, device),
                  device, f"learned filters, {len(depth_widths)} layer(s)")


def train_random(widths, kernel: int, train: tuple, test: tuple, plan: training.Schedule, seed: int,
                 device: str = "cpu", statistics_images: int = 5000) -> list[list[float]]:
    """Random-filter networks of depths 1 … len(``widths``): one random stack from the seed ``seed``, its
    BatchNorm statistics fitted on the first ``statistics_images`` training images (:func:`fit_batchnorm_`), the
    frozen features of every depth computed once (:func:`block_features`), and one linear classifier per depth
    trained on them. Per depth, its test accuracy at every evaluation of ``plan`` and at the end."""
    (x, y), (x_test, y_test) = train, test
    stack = ConvNet(x.shape[1], x.shape[-1], tuple(widths), kernel, "random")
    generator = as_generator(seed)
    initialise_(stack, generator).to(device)
    fit_batchnorm_(stack, x[:statistics_images], plan.batch, device)
    curves = []
    for depth, (features, test_features) in enumerate(zip(block_features(stack, x, device),
                                                          block_features(stack, x_test, device)), start=1):
        head = nn.Linear(features.shape[1], stack.head.out_features).to(device)
        with torch.no_grad():
            head.weight.zero_(), head.bias.zero_()
        curves.append(_train(dict(head=head), head, features, y, plan, generator,
                             partial(accuracy, head, test_features, y_test, device), device,
                             f"random filters, {depth} layer(s)"))
    return curves


@dataclass(frozen=True)
class Comparison:
    """Test accuracies of random and learned filters: ``curves[kind]`` is replicates × depths × :data:`FRACTIONS`
    (the accuracy along the training; the last column is the trained classifier's)."""

    dataset: str
    chance: float
    depths: tuple[int, ...]
    curves: dict[str, np.ndarray]

    def accuracy(self, kind: str) -> np.ndarray:
        """replicates × depths: the trained classifiers' test accuracy."""
        return self.curves[checks.choice("kind", kind, KINDS)][..., -1]

    def learned_lead(self, fraction: float = 1.0) -> np.ndarray:
        """replicates × depths: learned minus random accuracy, at ``fraction`` of the training."""
        column = FRACTIONS.index(checks.choice("fraction", fraction, FRACTIONS))
        return self.curves["learned"][..., column] - self.curves["random"][..., column]

    def kept_fraction(self, depths=None) -> np.ndarray:
        """replicates × ``depths`` (default: those of 2 layers and more, where the paper's learned filters pull
        ahead): (random − chance)/(learned − chance), the share of the learned filters' accuracy above chance that
        random filters keep."""
        depths = [d for d in self.depths if d >= 2] if depths is None else list(depths)
        columns = [self.depths.index(checks.choice("depth", d, self.depths)) for d in depths]
        random, learned = self.accuracy("random")[:, columns], self.accuracy("learned")[:, columns]
        return (random - self.chance) / (learned - self.chance)

    def lead_trend(self, fraction: float = 1.0) -> dict[str, np.ndarray]:
        """The inputs of a trend of the learned filters' lead against depth: ``layers`` and ``lead`` (depths ×
        replicates), at ``fraction`` of the training."""
        return dict(layers=np.asarray(self.depths), lead=self.learned_lead(fraction).T)

    def values(self) -> dict:
        """The numbers the chapter's prose quotes, by glue name (means over the replicates; leads in points)."""
        def joined(values, fmt: str) -> str:
            return " / ".join(format(v, fmt) for v in values)

        return {"clf_dataset": self.dataset, "chance": self.chance, "clf_replicates": len(self.accuracy("random")),
                "acc_random": joined(self.accuracy("random").mean(0), ".3f"),
                "acc_learned": joined(self.accuracy("learned").mean(0), ".3f"),
                "clf_leads": joined(100 * self.learned_lead().mean(0), "+.1f"),
                "kept": joined(self.kept_fraction(self.depths).mean(0), ".2f")}

    def record(self) -> dict:
        return dict(dataset=self.dataset, chance=self.chance, depths=list(self.depths), fractions=list(FRACTIONS),
                    curves={kind: curve.tolist() for kind, curve in self.curves.items()})

    def table(self) -> list[dict]:
        """Gilbert et al. Table 1 beside ours: mean ± std over the replicates, per depth."""
        rows = []
        for i, depth in enumerate(self.depths):
            ours = {kind: self.accuracy(kind)[:, i] for kind in KINDS}
            row = {"layers": depth}
            for kind in KINDS:
                row[f"{kind} ({self.dataset})"] = f"{ours[kind].mean():.3f} ± {ours[kind].std(ddof=1):.3f}" \
                    if len(ours[kind]) > 1 else f"{ours[kind][0]:.3f}"
            paper = PAPER_TABLE_1.get(depth)
            row["random (paper, CIFAR-10)"], row["learned (paper, CIFAR-10)"] = paper if paper else ("", "")
            rows.append(row)
        return rows


def compare(depths, widths, kernel: int, train_images: int, test_images: int, epochs: int, batch: int, lr: float,
            replicates: int, seed: int = 0, data_dir: str = "", device: str = "cpu") -> Comparison:
    """Gilbert et al. Table 1 on ``replicates`` seeds: for each depth in ``depths`` (the first ``depth`` of
    ``widths``) the test accuracy of random and learned filters, along the training (see the module's note)."""
    widths = checks.positive_ints("widths", widths)
    depths = checks.positive_ints("depths", depths)
    if any(d > len(widths) for d in depths):
        raise ValueError(f"depths must be integers in [1, {len(widths)}] (the number of widths), got {depths!r}")
    checks.positive_int("replicates", replicates)
    data_generator = seeds.generator(seed, "classifier", "data")
    train = load_split(True, train_images, data_dir, data_generator)
    test = load_split(False, test_images, data_dir, data_generator)
    plan = schedule(train_images, epochs, batch, lr)
    curves = {kind: [] for kind in KINDS}
    for replicate_seed in seeds.derive_many(seed, replicates, "classifier", "networks"):
        network_seeds = dict(zip(KINDS, seeds.derive_many(replicate_seed, 2, "kinds")))
        random = train_random(widths[: max(depths)], kernel, train, test, plan, network_seeds["random"], device)
        curves["random"].append([random[d - 1] for d in depths])
        curves["learned"].append([train_learned(widths[:d], kernel, train, test, plan,
                                                seeds.derive(network_seeds["learned"], "depth", d), device)
                                  for d in depths])
    classes = int(train[1].max()) + 1
    return Comparison(dataset_name(data_dir), 1 / classes, depths,
                      {kind: np.asarray(values, dtype=float) for kind, values in curves.items()})
