"""He et al. §3 (SPEC §3): a DCN trained to invert the ConvK features of a random CNN, or of a CNN trained for
classification — the experiments behind Figs. 5–6, each DCN trained once and cached.

- **Images.** The *domain* is the classifier's own: Fashion-MNIST offline (training images from its training set,
  held-out images from its test set), ImageNet at the paper profile (``DATA_DIR/train`` and ``DATA_DIR/val``).
  The *photos* are seeded random crops of the embedded training photographs; held-out crops and whole photographs
  come from the held-out ones (:data:`rdcn.data.HELD_OUT`, the cat first).
- **Random encoders.** Each of the four distributions (SPEC §2) at the paper's parameters, drawn layer by layer
  with the paper's per-layer variance: a conv of our narrow net has fewer inputs than the paper's full-width one,
  so its distribution's scale is multiplied by √(paper fan-in / our fan-in) (1 at full width); each layer's
  pre-activations then have the paper's variance.
- **Feature scale.** With zero biases and ReLU a random encoder is positively homogeneous: its ConvK features are
  σ^L times those of σ = 1 (L convolutions), tiny at the paper's σ (of order 10⁻⁴ at Conv2 and 10⁻⁶ at Conv5
  for a [0, 1] image). A DCN
  learns such a scale only slowly (Adam moves each weight by about ``lr`` per step), which the paper's 200,000
  iterations hide and our few hundred do not. So by default the DCN reads the features divided by one constant per
  encoder, their RMS over training images (:func:`unit_rms`): information unchanged, scale removed, for random and
  trained encoders alike. The Gaussian σ sweep (Fig. 5b) is about that scale and runs on the raw features.
"""
from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import torch
from torch import nn

from ..core import architectures, cache, data, operators, profiles, random_weights, training
from . import trained_encoder as classifier

CHAPTER = "random_cnn_trained_dcn"
ENCODER_KINDS = ("random", "trained")
DOMAINS = ("domain", "photos")
SCALE_IMAGES = 256  # training images the feature RMS of :func:`unit_rms` is measured on
IN_MEMORY_BYTES = 1 << 30  # image sets up to this size are made once and held as one tensor


@dataclass(frozen=True)
class ImageSet:
    """Images for training or evaluation: an N×3×H×W tensor or a dataset with ``batch(indices)``, with a
    description (``key``) that identifies them in cache keys."""

    images: Any
    key: dict

    def __len__(self) -> int:
        return len(self.images)

    def first(self, n: int) -> torch.Tensor:
        """The first ``n`` images as a tensor."""
        return training.batch_of(self.images, torch.arange(min(n, len(self.images))))


def domain_sets(profile: str, data_dir: str, size: int, n_train: int, n_eval: int, seed: int) -> tuple[ImageSet,
                                                                                                       ImageSet]:
    """(training, held-out) images of the classifier's domain: Fashion-MNIST offline (its training / test split),
    ImageNet from ``data_dir/train`` and ``data_dir/val`` at the paper profile."""
    if profile == "paper":
        if not data_dir:
            raise ValueError("the paper profile compares encoders on ImageNet: pass data_dir (DATA_DIR=…), a folder "
                             "with train/ and val/ sub-folders of ImageNet images")
        sets = []
        for split, n in (("train", n_train), ("val", n_eval)):
            files = data.ImageFiles(Path(data_dir) / split, n, size, seed)
            sets.append(ImageSet(files, dict(dataset="folder", files=[str(f) for f in files.files], size=size)))
        return sets[0], sets[1]
    sets = []
    for train, n in ((True, n_train), (False, n_eval)):
        fashion = data.fashion_mnist(train=train)
        index = torch.randperm(len(fashion.data), generator=torch.Generator().manual_seed(seed))[:n]
        sets.append(ImageSet(classifier.fashion_images(fashion.data[index], size),
                             dict(dataset="fashion-mnist", train=train, n=n, size=size, seed=seed)))
    return sets[0], sets[1]


def photo_sets(size: int, n_train: int, n_eval: int, seed: int) -> tuple[ImageSet, ImageSet]:
    """(training, held-out) seeded random crops of the embedded photographs (:func:`rdcn.data.embedded_crops`),
    made once and held in memory where they fit in :data:`IN_MEMORY_BYTES`, else made on demand."""
    sets = []
    for split, n in (("train", n_train), ("held_out", n_eval)):
        crops = data.embedded_crops(split, size, n, seed)
        in_memory = n * 3 * size * size * 4 <= IN_MEMORY_BYTES
        sets.append(ImageSet(crops.batch(range(n)) if in_memory else crops,
                             dict(dataset="photos", split=split, n=n, size=size, seed=seed)))
    return sets[0], sets[1]


def paper_scale(layers, arch: str) -> list[float]:
    """Per conv of ``layers`` (a cut of ``arch`` at any width): √(fan-in of the paper's full-width conv / ours)."""
    full = {c.name: c for c in architectures.convs(architectures.architecture(arch))}
    return [math.sqrt(full[c.name].in_channels / c.in_channels) for c in architectures.convs(layers)]


def random_encoder(arch: str, layers, distribution: str = "gaussian", seed: int = 0, **params: float) -> nn.Sequential:
    """``build_encoder(layers)`` (ReLU, max pooling) with zero biases and weights from ``distribution`` (the
    paper's parameters, ``params`` overriding), each conv's scale parameters times :func:`paper_scale`; all
    drawn in layer order from one generator seeded with ``seed``."""
    base = random_weights.parameters(distribution, **params)
    encoder = architectures.build_encoder(layers)
    generator = torch.Generator().manual_seed(seed)
    for conv, factor in zip(architectures.convs(layers), paper_scale(layers, arch)):
        random_weights.randomize_(encoder._modules[conv.name], distribution, generator,
                                  **{k: v * factor for k, v in base.items()})
    return encoder.requires_grad_(False)


@torch.no_grad()
def unit_rms(encoder: nn.Module, images: torch.Tensor, chunk: int = 64) -> tuple[nn.Sequential, float]:
    """``encoder`` followed by division by its features' RMS over ``images`` (one constant), and that RMS."""
    device = next(encoder.parameters()).device
    total, count = 0.0, 0
    for start in range(0, len(images), chunk):
        z = encoder(images[start : start + chunk].to(device))
        total, count = total + float(z.double().pow(2).sum()), count + z.numel()
    rms = math.sqrt(total / count)
    if not rms > 0:
        raise ValueError("the encoder's features are all zero on these images: nothing to invert")
    return nn.Sequential(encoder, operators.Scale(1 / rms)), rms


@dataclass
class Inversion:
    """One trained DCN: its encoder (as the DCN reads it), decoder, layers, and loss history."""

    name: str
    arch: str
    domain: str
    layers: tuple
    encoder: nn.Module
    decoder: nn.Module
    history: dict
    feature_rms: float
    pixels: int
    evaluations: dict = field(default_factory=dict)

    def reconstruct(self, images: torch.Tensor) -> torch.Tensor:
        return training.reconstruct(self.encoder, self.decoder, images)

    def mean_sse(self, images: ImageSet | torch.Tensor, n: int | None = None) -> float:
        """Mean per-image SSE over ``images`` (the first ``n``), in chunks: datasets are read as needed."""
        source = images.images if isinstance(images, ImageSet) else images
        n = len(source) if n is None else min(n, len(source))
        total = 0.0
        for start in range(0, n, 64):
            x = training.batch_of(source, torch.arange(start, min(n, start + 64)))
            total += float(training.sse(self.reconstruct(x), x).sum())
        return total / n


class Experiments:
    """The chapter's DCNs at one profile, trained on demand, cached, and kept for the figures that share them."""

    def __init__(self, profile: str = "book", device: str = "cpu", data_dir: str = "", seed: int = 0, **overrides):
        self.S = profiles.sizes(CHAPTER, profile, **overrides)
        self.overrides = overrides  # the classifier of :meth:`encoder` is made at the same sizes
        self.profile, self.device, self.data_dir, self.seed = profile, profiles.check_device(device), data_dir, seed
        self.schedule = training.Schedule.from_sizes(self.S)
        self._sets: dict[tuple, tuple[ImageSet, ImageSet]] = {}
        self._inversions: dict[tuple, Inversion] = {}

    def size(self, arch: str, domain: str) -> int:
        if domain not in DOMAINS:
            raise ValueError(f"domain must be one of {list(DOMAINS)}, got {domain!r}")
        return classifier.image_size(arch, self.S) if domain == "domain" else (
            self.S.photo_size if arch == "vgg16" else self.S.alexnet_size)

    def sets(self, arch: str, domain: str) -> tuple[ImageSet, ImageSet]:
        """(training, held-out) images for ``arch`` (whose input size they have) in ``domain``."""
        size = self.size(arch, domain)
        if (domain, size) not in self._sets:
            args = (size, self.S.train_images, self.S.eval_images, self.seed)
            self._sets[domain, size] = (domain_sets(self.profile, self.data_dir, *args) if domain == "domain"
                                        else photo_sets(*args))
        return self._sets[domain, size]

    def encoder(self, arch: str, layer: str, kind: str, distribution: str = "gaussian", replicate: int = 0,
                **params: float) -> tuple[tuple, nn.Module]:
        """(layers up to ``layer``, encoder) of kind ``random`` (``distribution``, ``params``, drawn with seed
        ``seed + replicate``) or ``trained`` (:func:`rdcn.classifier.trained_encoder` at ``seed``, input
        normalisation in front)."""
        if kind not in ENCODER_KINDS:
            raise ValueError(f"encoder kind must be one of {list(ENCODER_KINDS)}, got {kind!r}")
        layers = architectures.cut(architectures.architecture(arch, width=self.S.width), layer)  # checks both
        if kind == "random":
            return layers, random_encoder(arch, layers, distribution, self.seed + replicate, **params)
        if distribution != "gaussian" or params:
            raise ValueError("distribution and its parameters apply to random encoders only")
        full, encoder, info = classifier.trained_encoder(arch, self.profile, self.device, self.seed, self.data_dir,
                                                         **self.overrides)
        layers = architectures.cut(full, layer)
        return layers, nn.Sequential(classifier.input_normalization(info), architectures.truncate(encoder, layer))

    def inversion(self, arch: str, layer: str, kind: str = "random", domain: str = "domain",
                  distribution: str = "gaussian", raw: bool = False, replicate: int = 0,
                  **params: float) -> Inversion:
        """The DCN inverting ``arch``'s ``layer`` features (encoder ``kind``), trained on ``domain`` images;
        ``raw`` = on the unscaled features (else divided by their RMS, see the module's notes). ``replicate`` r
        draws the random encoder and trains the DCN with seed ``seed + r`` (same images, same trained encoder)."""
        if isinstance(replicate, bool) or not isinstance(replicate, int) or replicate < 0:
            raise ValueError(f"replicate must be a non-negative integer, got {replicate!r}")
        spec = (arch, layer, kind, domain, distribution, raw, replicate, tuple(sorted(params.items())))
        if spec in self._inversions:
            return self._inversions[spec]
        size = self.size(arch, domain)  # checks the domain before anything is built
        layers, encoder = self.encoder(arch, layer, kind, distribution, replicate, **params)
        train, held_out = self.sets(arch, domain)
        encoder = encoder.to(self.device)
        rms = None
        if not raw:
            encoder, rms = unit_rms(encoder, train.first(SCALE_IMAGES))
        curve = held_out.first(self.S.curve_images)
        config = dict(encoder=encoder.state_dict(), layers=layers, feature_rms=rms, train=train.key,
                      held_out=held_out.key, curve_images=self.S.curve_images, schedule=asdict(self.schedule),
                      seed=self.seed + replicate, device=self.device)
        digest = cache.key(config, code=(training, architectures, operators, data, unit_rms, domain_sets,
                                         photo_sets, data.ImageFiles, classifier.fashion_images))
        decoder = architectures.build_decoder(layers, activation="leaky", upsample="zero", last="conv")
        name = f"{arch} {layer} {kind}" + (f" {distribution}" if kind == "random" else "") + (
            f" {params}" if params else "") + (" raw" if raw else "") + f" ({domain}" + (
            f", replicate {replicate})" if replicate else ")")
        history = training.train_dcn(encoder, decoder, train.images, curve, self.schedule, self.seed + replicate,
                                     self.device, checkpoint=cache.path_for("dcn", digest), desc=name)
        inversion = Inversion(name, arch, domain, layers, encoder, decoder, history,
                              float("nan") if rms is None else rms, 3 * size * size)
        self._inversions[spec] = inversion
        return inversion

    def generalization(self, inversion: Inversion) -> dict[str, float]:
        """Mean per-image SSE of ``inversion`` on ``eval_images`` training and held-out images of its domain."""
        if not inversion.evaluations:
            train, held_out = self.sets(inversion.arch, inversion.domain)
            inversion.evaluations = dict(train=inversion.mean_sse(train, self.S.eval_images),
                                         held_out=inversion.mean_sse(held_out, self.S.eval_images))
        return inversion.evaluations


def smooth(values, window: int) -> list[float]:
    """Trailing moving average over ``window`` values (fewer at the start), for readable loss curves."""
    out, total = [], 0.0
    for i, v in enumerate(values):
        total += v
        if i >= window:
            total -= values[i - window]
        out.append(total / min(i + 1, window))
    return out


def loss_curves(inversions: dict[str, Inversion], window: int, ax=None, title: str | None = None):
    """Each inversion's training loss per iteration (per pixel, trailing mean over ``window`` iterations; a line)
    and held-out loss (per pixel, at its evaluation points; markers of the same colour), log scale."""
    import matplotlib.pyplot as plt

    if ax is None:
        _, ax = plt.subplots(figsize=(5.2, 3.4))
    for label, inv in inversions.items():
        train = [v / inv.pixels for v in smooth(inv.history["train"], window)]
        (line,) = ax.plot(range(1, len(train) + 1), train, lw=1.2, label=label)
        ax.plot(inv.history["evaluated_at"], [v / inv.pixels for v in inv.history["held_out"]], "o", ms=3,
                color=line.get_color())
    ax.set_xlabel("iteration"), ax.set_ylabel("squared error per pixel")
    ax.set_yscale("log")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7)
    if title:
        ax.set_title(title, fontsize=10)
    ax.figure.tight_layout()
    return ax.figure
