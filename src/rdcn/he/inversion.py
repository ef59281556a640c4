"""He et al. §3.1: a DCN trained to invert the ConvK features of a fixed CNN — random, or trained for
classification — one DCN per :class:`DCN` description, trained as one job and cached.

- **Images.** The *domain* is the classifier's own: Fashion-MNIST offline (training images from its training split,
  held-out images from its test split), ImageNet at the paper profile (``DATA_DIR/train`` and ``DATA_DIR/val``, every
  chosen file decoded once before any training so that a corrupt one is an error naming it). *Photos* are the
  natural photographs: offline, seeded random crops of the embedded training photographs (held-out crops from the
  held-out ones, :data:`rdcn.core.data.HELD_OUT`, the cat first); at the paper profile ImageNet itself.
- **Random encoders.** Each of the four distributions of §2.2 at the paper's parameters, drawn layer by layer with
  the paper's per-layer variance: a conv of our narrow net has fewer inputs than the paper's full-width one, so its
  distribution's scale is multiplied by √(paper fan-in / our fan-in) (1 at full width); each layer's pre-activations
  then have the paper's variance. A replicate's encoder is drawn from its own seed (:mod:`rdcn.core.seeds`), the same
  for every layer, distribution and σ, so a shallower cut is a prefix of a deeper one and σ only rescales.
- **Feature scale.** With zero biases and ReLU a random encoder is positively homogeneous: its ConvK features are
  σ^L times those of σ = 1 (L convolutions), tiny at the paper's σ. A DCN learns such a scale only slowly (Adam moves
  each weight by about ``lr`` per step), which the paper's 200,000 iterations hide and ours do not. So by default the
  DCN reads the features divided by one constant per encoder, their RMS over :data:`SCALE_IMAGES` training images
  (:func:`unit_rms`): information unchanged, scale removed, for random and trained encoders alike. The Gaussian σ
  sweep (Fig. 5b) is about that scale and runs on the raw features.
- **Training** (Eq. 1): :func:`rdcn.core.training.train_dcn` (Adam, multistep decay, MSRA start, the DCN's seed
  shared by the random and the trained encoder of a replicate, so their comparison is paired; each image's features
  computed once where they fit in memory), checkpointed and resumed; then the mean loss on ``eval_images`` training
  and held-out images (the generalization table) is measured and stored with the weights, so reading a model never
  needs the data.
"""
from __future__ import annotations

import functools
import math
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import torch
from torch import nn

from ..core import architectures, cache, checks, data, jobs, operators, random_weights, seeds, training
from . import imagenet_weights
from . import trained_encoder as classifiers

ENCODERS = ("random", "trained")
LAYERS = ("conv1", "conv2", "conv3", "conv4", "conv5")
SCALE_IMAGES = 256  # training images the feature RMS of :func:`unit_rms` is measured on
IN_MEMORY_BYTES = 1 << 30  # image sets up to this size are made once and held as one tensor
DECODE_THREADS = 8


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


def decode_all(files: data.ImageFiles, threads: int = DECODE_THREADS) -> None:
    """Decode every file of ``files`` now (on ``threads`` threads), so that a corrupt one is an error naming it
    before any training starts, not at some mini-batch of it. Remembered in the cache folder per set of files."""
    stamp = cache.path_for("decoded", cache.key(dict(files=[str(f) for f in files.files], size=files.size)))
    if stamp.is_file():
        return
    with ThreadPoolExecutor(threads) as pool:
        for _ in pool.map(files.__getitem__, range(len(files))):
            pass
    cache.save(stamp, dict(files=len(files)))


def _fashion_set(train: bool, n: int, size: int, seed: int) -> ImageSet:
    fashion = data.fashion_mnist(train=train)
    split = "train" if train else "test"
    index = torch.randperm(len(fashion.data), generator=seeds.generator(seed, "fashion-mnist", split))[:n]
    return ImageSet(classifiers.fashion_images(fashion.data[index], size),
                    dict(dataset="fashion-mnist", split=split, n=n, size=size, seed=seed))


def _imagenet_set(data_dir: str, split: str, n: int, size: int, seed: int) -> ImageSet:
    files = data.ImageFiles(Path(data_dir) / split, n, size, seeds.derive(seed, "imagenet", split))
    decode_all(files)
    in_memory = n * 3 * size * size * 4 <= IN_MEMORY_BYTES
    return ImageSet(files.batch(range(n)) if in_memory else files,
                    dict(dataset="folder", files=[str(f) for f in files.files], size=size))


def _photo_set(split: str, n: int, size: int, seed: int) -> ImageSet:
    crops = data.embedded_crops(split, size, n, seeds.derive(seed, "photos", split))
    in_memory = n * 3 * size * size * 4 <= IN_MEMORY_BYTES
    return ImageSet(crops.batch(range(n)) if in_memory else crops,
                    dict(dataset="photos", split=split, n=n, size=size, seed=seed))


@functools.lru_cache(maxsize=8)
def _sets(source: str, data_dir: str, n_train: int, n_eval: int, size: int, seed: int) -> tuple[ImageSet, ImageSet]:
    if source == "imagenet":
        return _imagenet_set(data_dir, "train", n_train, size, seed), _imagenet_set(data_dir, "val", n_eval, size, seed)
    if source == "fashion-mnist":
        return _fashion_set(True, n_train, size, seed), _fashion_set(False, n_eval, size, seed)
    return _photo_set("train", n_train, size, seed), _photo_set("held_out", n_eval, size, seed)


def source(sizes, domain: str) -> str:
    """Where a ``domain``'s images come from at ``sizes``' profile: ``imagenet`` (the paper profile, both domains),
    else ``fashion-mnist`` (the classifier's domain) or ``photos`` (the embedded photographs)."""
    checks.choice("domain", domain, classifiers.DOMAINS)
    if classifiers.on_imagenet(sizes):
        return "imagenet"
    return "fashion-mnist" if domain == "domain" else "photos"


def _require(data_dir: str) -> None:
    if not data_dir:
        raise ValueError("the paper profile trains on ImageNet: pass data_dir (DATA_DIR=…), a folder with train/ and "
                         "val/ sub-folders of ImageNet images")


def natural_domain(sizes) -> str:
    """The domain of the natural-photograph DCNs (Figs. 5c, 6, the reconstructions from Conv1 to Conv5): ImageNet
    itself at the paper profile (``domain``), the embedded photographs offline (``photos``)."""
    return "domain" if classifiers.on_imagenet(sizes) else "photos"


def image_sets(sizes, architecture: str, domain: str, seed: int = 0, data_dir: str = "") -> tuple[ImageSet,
                                                                                                   ImageSet]:
    """(training, held-out) images of ``domain`` at ``architecture``'s input size (made once per process)."""
    where = source(sizes, domain)
    if where == "imagenet":
        _require(data_dir)
    size = classifiers.image_size(architecture, sizes, domain)
    return _sets(where, data_dir if where == "imagenet" else "", sizes.train_images, sizes.eval_images, size, seed)


def paper_scale(layers, architecture: str) -> list[float]:
    """Per conv of ``layers`` (a cut of ``architecture`` at any width): √(fan-in of the paper's full-width conv /
    ours)."""
    full = {c.name: c for c in architectures.convs(architectures.architecture(architecture))}
    return [math.sqrt(full[c.name].in_channels / c.in_channels) for c in architectures.convs(layers)]


def random_encoder(architecture: str, layers, distribution: str = "gaussian", seed: int = 0,
                   **params: float) -> nn.Sequential:
    """``build_encoder(layers)`` (ReLU, max pooling) with zero biases and weights from ``distribution`` (the
    paper's parameters, ``params`` overriding), each conv's scale parameters times :func:`paper_scale`; all
    drawn in layer order from one generator seeded with ``seed``."""
    base = random_weights.parameters(distribution, **params)
    encoder = architectures.build_encoder(layers)
    generator = torch.Generator().manual_seed(checks.seed(seed))
    convs = [m for m in encoder.modules() if isinstance(m, nn.Conv2d)]
    for conv, factor in zip(convs, paper_scale(layers, architecture)):
        random_weights.randomize_(conv, distribution, generator, **{k: v * factor for k, v in base.items()})
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


@dataclass(frozen=True)
class DCN:
    """What one DCN of the chapter inverts, and how (every size not named here is the chapter's).

    ``encoder`` random (``distribution``, Gaussian ``sigma`` other than the paper's 0.015) or trained for
    classification (``classifier_iterations``: the classifier part-way through its training, one of its kept
    snapshots; None: all of it); ``raw``: on the raw features rather than their unit-RMS version; ``replicate``:
    the index of the random encoder and DCN seeds; ``width``: another width than the chapter's; ``iterations``:
    another length of DCN training than the chapter's."""

    architecture: str
    layer: str
    encoder: str = "random"
    domain: str = "domain"
    distribution: str = "gaussian"
    sigma: float | None = None
    raw: bool = False
    replicate: int = 0
    width: float | None = None
    classifier_iterations: int | None = None
    iterations: int | None = None

    def __post_init__(self):
        checks.choice("architecture", self.architecture, architectures.ARCHITECTURES)
        checks.choice("layer", self.layer, LAYERS)
        checks.choice("encoder kind", self.encoder, ENCODERS)
        checks.choice("domain", self.domain, classifiers.DOMAINS)
        random_weights.parameters(self.distribution)
        checks.non_negative_int("replicate", self.replicate)
        for name in ("sigma", "width"):
            if getattr(self, name) is not None:
                checks.positive_number(name, getattr(self, name))
        for name in ("classifier_iterations", "iterations"):
            if getattr(self, name) is not None:
                checks.non_negative_int(name, getattr(self, name))
        if self.encoder == "trained" and (self.distribution != "gaussian" or self.sigma is not None or self.raw):
            raise ValueError("distribution, sigma and raw apply to random encoders only")
        if self.encoder == "random" and self.classifier_iterations is not None:
            raise ValueError("classifier_iterations applies to trained encoders only")
        if self.sigma is not None and self.distribution != "gaussian":
            raise ValueError("sigma applies to the Gaussian distribution only")

    @property
    def label(self) -> str:
        parts = [self.architecture, self.layer, self.encoder]
        if self.encoder == "random" and (self.distribution != "gaussian" or self.sigma is not None):
            parts.append(self.distribution if self.sigma is None else f"σ={self.sigma:g}")
        if self.classifier_iterations is not None:
            parts.append(f"after {self.classifier_iterations} it.")
        if self.raw:
            parts.append("raw")
        if self.width is not None:
            parts.append(f"width {self.width:g}")
        parts.append(self.domain if self.replicate == 0 else f"{self.domain}, replicate {self.replicate}")
        return " ".join(parts)


def _layers(dcn: DCN, sizes) -> tuple:
    width = sizes.width if dcn.width is None else dcn.width
    return architectures.cut(architectures.architecture(dcn.architecture, width=width), dcn.layer)


def schedule(dcn: DCN, sizes) -> training.Schedule:
    """``dcn``'s optimisation (§3.1: Adam, multistep decay, the chapter's sizes; its own length where it has one)."""
    iterations = sizes.iterations if dcn.iterations is None else dcn.iterations
    return training.Schedule(iterations, sizes.batch, sizes.lr, sizes.weight_decay, "multistep", sizes.eval_every,
                             sizes.checkpoint_every)


def encoder_seed(dcn: DCN, seed: int) -> int:
    """The seed of ``dcn``'s random encoder: its replicate's, the same for every layer, distribution and σ."""
    return seeds.derive(seed, "random encoder", dcn.architecture, dcn.replicate)


def _encoder_identity(dcn: DCN, sizes, seed: int, device: str) -> dict:
    if dcn.encoder == "random":
        params = {} if dcn.sigma is None else dict(sigma=dcn.sigma)
        return dict(distribution=dcn.distribution, parameters=random_weights.parameters(dcn.distribution, **params),
                    seed=encoder_seed(dcn, seed))
    if classifiers.on_imagenet(sizes):
        return dict(imagenet=imagenet_weights.identity(dcn.architecture))
    job = classifiers.classifier_job(dcn.architecture, sizes, seed, device, dcn.width, count_flops=False)
    return dict(classifier=job.key, iteration=dcn.classifier_iterations)


def config(dcn: DCN, sizes, seed: int = 0, device: str = "cpu", data_dir: str = "") -> dict:
    """Everything that defines ``dcn``'s trained model, hashed for its cache key: its layers, its encoder's identity
    (a random encoder's distribution and seed; a trained one's classifier cache key and snapshot, or torchvision's
    weights file and hash), its images, its schedule and seed. The trained encoder enters by its key, not its
    weights, so the key is known before the classifier is trained (the plan); ImageNet enters by its folder and the
    sizes and seed that choose its files (the folder's content is taken as fixed: replacing its images needs a new
    cache folder)."""
    size = classifiers.image_size(dcn.architecture, sizes, dcn.domain)
    where = source(sizes, dcn.domain)
    if where == "imagenet":
        _require(data_dir)
    images = dict(source=where, data_dir=str(Path(data_dir).resolve()) if where == "imagenet" else "",
                  train=sizes.train_images, held_out=sizes.eval_images, size=size, seed=seed)
    return dict(layers=_layers(dcn, sizes), architecture=dcn.architecture, encoder=dcn.encoder,
                encoder_identity=_encoder_identity(dcn, sizes, seed, device), raw=dcn.raw, images=images,
                scale_images=SCALE_IMAGES, curve_images=sizes.curve_images, eval_images=sizes.eval_images,
                schedule=asdict(schedule(dcn, sizes)), seed=seeds.derive(seed, "dcn", dcn.replicate),
                device=device)


@functools.cache
def _code() -> str:
    """A digest of the source code that makes a DCN (computed once per process)."""
    return cache.key({}, code=(architectures, operators, data, training, classifiers.fashion_images, random_encoder,
                               paper_scale, unit_rms, _fashion_set, _imagenet_set, _photo_set, encoder, decoder,
                               train))


def key(dcn: DCN, sizes, seed: int = 0, device: str = "cpu", data_dir: str = "") -> str:
    """``dcn``'s cache key (``dcn-<hash>``, see :func:`config`, and the code that trains it)."""
    return f"dcn-{cache.key(dict(config(dcn, sizes, seed, device, data_dir), code=_code()))}"


def encoder(dcn: DCN, sizes, seed: int = 0, device: str = "cpu", data_dir: str = "", classifier: str | None = None
            ) -> nn.Module:
    """``dcn``'s encoder as its DCN reads it: random (drawn from the replicate's seed) or trained (input
    normalisation in front; ``classifier``: the cache key of the classifier to read, the plan's), cut at
    ``dcn.layer``, on ``device`` — without the feature scaling (:func:`unit_rms`)."""
    layers = _layers(dcn, sizes)
    if dcn.encoder == "random":
        params = {} if dcn.sigma is None else dict(sigma=dcn.sigma)
        net = random_encoder(dcn.architecture, layers, dcn.distribution, encoder_seed(dcn, seed), **params)
    else:
        _, trained, info = classifiers.trained_encoder(dcn.architecture, sizes, device, seed, data_dir, width=dcn.width,
                                                       iteration=dcn.classifier_iterations, key=classifier)
        net = nn.Sequential(classifiers.input_normalization(info), architectures.truncate(trained, dcn.layer))
    return net.to(device).eval().requires_grad_(False)


def decoder(dcn: DCN, sizes) -> architectures.Decoder:
    """A fresh DCN mirroring ``dcn``'s layers (§2.1: leaky ReLU, zero-filling upsampling, a last conv)."""
    return architectures.build_decoder(_layers(dcn, sizes), activation="leaky", upsample="zero", last="conv")


def train(dcn: dict, sizes, seed: int, device: str, data_dir: str, output: str, classifier: str | None) -> None:
    """The job: train the DCN ``dcn`` describes (a :class:`DCN` as a dict) at chapter 2's ``sizes``, then measure its
    mean loss on ``eval_images`` training and held-out images, and write weights, loss history, feature RMS and
    those losses into the cache under the key ``output`` (the plan's; ``classifier``: the plan's key of the
    classifier a trained encoder comes from); resumes from its checkpoint if one is there."""
    spec = DCN(**dcn)
    digest = output.removeprefix("dcn-")
    train_set, held_out = image_sets(sizes, spec.architecture, spec.domain, seed, data_dir)
    net = encoder(spec, sizes, seed, device, data_dir, classifier)
    rms = math.nan
    if not spec.raw:
        net, rms = unit_rms(net, train_set.first(SCALE_IMAGES))
    model = decoder(spec, sizes)
    checkpoint = cache.path_for("checkpoint", digest)
    history = training.train_dcn(net, model, train_set.images, held_out.first(sizes.curve_images),
                                 schedule(spec, sizes), seeds.derive(seed, "dcn", spec.replicate), device,
                                 checkpoint=checkpoint, desc=spec.label)
    # the mean loss on the first eval_images of each set, encoded chunk by chunk (draws=0: no features held)
    evaluations = {name: training.mean_sse(model, training.EncodedImages(net, images.images, device, draws=0),
                                           sizes.eval_images)
                   for name, images in (("train", train_set), ("held_out", held_out))}
    cache.save(cache.path_for("dcn", digest), dict(decoder=model.state_dict(), history=history, feature_rms=rms,
                                                   evaluations=evaluations, label=spec.label))
    checkpoint.unlink(missing_ok=True)


@functools.lru_cache(maxsize=256)
def _features(layers: tuple, size: int) -> torch.Tensor:
    """The encoder's features of one image of ``size`` px on the meta device (shapes and dtype, no arithmetic)."""
    return architectures.build_encoder(layers).to("meta")(torch.zeros(1, 3, size, size, device="meta"))


def features_held(layers: tuple, size: int, batch: int, images: int, iterations: int) -> bool:
    """Whether a run of ``iterations`` mini-batches of ``batch`` on a set of ``images`` images of ``size`` px
    computes each image's ``layers`` features once (:func:`rdcn.core.training.holds_features`, the rule
    :class:`rdcn.core.training.EncodedImages` applies)."""
    one = _features(layers, size)
    return training.holds_features(one.numel() * one.element_size(), images, iterations * batch)


@functools.lru_cache(maxsize=256)
def step_flops(layers: tuple, size: int, batch: int, images: int, iterations: int) -> float:
    """FLOPs of one DCN training iteration on ``layers`` with mini-batches of ``batch`` images of ``size`` px, in a
    run of ``iterations`` iterations on a set of ``images`` images: the DCN's forward and backward passes, and the
    encoder's forward pass on the mini-batch — or, where the run computes each image's features once
    (:func:`features_held`), that pass over the set shared out over the iterations. Counted by
    :func:`rdcn.core.jobs.step_flops`."""

    def encode(device: str) -> None:
        architectures.build_encoder(layers).to(device)(torch.zeros(1, 3, size, size, device=device))

    def decode(device: str) -> None:
        model = architectures.build_decoder(layers, activation="leaky", upsample="zero", last="conv").to(device)
        training.sse(model(torch.zeros(batch, *_features(layers, size).shape[1:], device=device), (size, size)),
                     torch.zeros(batch, 3, size, size, device=device)).mean().backward()

    held = features_held(layers, size, batch, images, iterations)
    return jobs.step_flops(decode) + jobs.step_flops(encode) * (images / iterations if held else batch)


def job(dcn: DCN, sizes, seed: int = 0, device: str = "cpu", data_dir: str = "", count_flops: bool = True
        ) -> jobs.Job:
    """The job that trains ``dcn`` (:func:`train`), after the classifier it needs, with its FLOPs per step (0 unless
    ``count_flops``)."""
    needs = ()
    if dcn.encoder == "trained" and not classifiers.on_imagenet(sizes):
        needs = (classifiers.classifier_job(dcn.architecture, sizes, seed, device, dcn.width, False).key,)
    size = classifiers.image_size(dcn.architecture, sizes, dcn.domain)
    iterations = schedule(dcn, sizes).iterations
    flops = (step_flops(_layers(dcn, sizes), size, sizes.batch, sizes.train_images, iterations) if count_flops
             else 0.0)
    output = key(dcn, sizes, seed, device, data_dir)
    return jobs.Job(output, dcn.label, "rdcn.he.inversion:train",
                    dict(dcn=asdict(dcn), sizes=sizes, seed=seed, device=device, data_dir=data_dir, output=output,
                         classifier=needs[0] if needs else None), needs, flops, iterations)


@dataclass
class Inversion:
    """One trained DCN read from the cache: what it inverts, its encoder (as the DCN reads it), decoder, loss
    history, feature RMS (nan on raw features), the pixels of its images and its measured losses (``train`` and
    ``held_out``: mean per-image SSE on ``eval_images`` images)."""

    dcn: DCN
    encoder: nn.Module
    decoder: nn.Module
    history: dict
    feature_rms: float
    pixels: int
    evaluations: dict

    def reconstruct(self, images: torch.Tensor) -> torch.Tensor:
        return training.reconstruct(self.encoder, self.decoder, images)


def load(dcn: DCN, sizes, seed: int = 0, device: str = "cpu", data_dir: str = "") -> Inversion:
    """``dcn``'s trained model from the cache (a FileNotFoundError naming it if it is not there; a corrupt file is
    reported, deleted and reported missing). Rebuilds the encoder and, unless raw, its feature scale."""
    path = cache.path_for("dcn", key(dcn, sizes, seed, device, data_dir).removeprefix("dcn-"))
    payload = cache.load(path)
    if payload is None:
        raise FileNotFoundError(f"the DCN {dcn.label!r} is not in the cache ({path})")
    net = encoder(dcn, sizes, seed, device, data_dir)
    if not dcn.raw:
        net = nn.Sequential(net, operators.Scale(1 / payload["feature_rms"]))
    model = decoder(dcn, sizes).to(device)
    model.load_state_dict(payload["decoder"])
    model.eval()
    size = classifiers.image_size(dcn.architecture, sizes, dcn.domain)
    return Inversion(dcn, net, model, payload["history"], float(payload["feature_rms"]), 3 * size * size,
                     payload["evaluations"])


def smooth(values, window: int) -> list[float]:
    """Trailing moving average over ``window`` values (fewer at the start), for readable loss curves."""
    out, total = [], 0.0
    for i, v in enumerate(values):
        total += v
        if i >= window:
            total -= values[i - window]
        out.append(total / min(i + 1, window))
    return out
