"""Encoders trained for classification: the "pre-trained CNN" He et al. §3.2 compares the random CNN with.

- ``paper`` profile: torchvision's ImageNet weights of VGG16 / AlexNet, verified and loaded as plain data
  (:mod:`rdcn.he.imagenet_weights`); inputs normalised with ImageNet's mean and std (``info["normalize"]``).
- ``smoke`` / ``book`` profiles (offline): the same architecture at the chapter's width, trained here to classify
  Fashion-MNIST (Xiao et al. 2017; 28×28 gray, resized to the architecture's size, gray replicated into three
  channels, range [0, 1], no normalisation). The head is ours: global average pooling of the last block's pooled
  maps, then one linear layer; Kaiming-normal start (torchvision's VGG initialisation), cross-entropy, Adam with a
  cosine-annealed learning rate, mini-batches as seeded epochs, on the package's one training loop
  (:func:`rdcn.core.training.fit`), checkpointed and resumable. The test accuracy is measured along the way (the
  accuracy curve), and the encoder's weights are kept at the iterations ``classifier_snapshots`` names (and at 0):
  the encoder part-way through learning its task. Each classifier is one job (:func:`classifier_job`) whose model
  is cached under a hash of its whole configuration.

:func:`trained_encoder` is the interface every chapter calls with chapter 2's sizes (resolved once, by the caller):
``(layers, encoder, info)``, the encoder frozen, in eval mode, built by :func:`rdcn.core.architectures.build_encoder`
(so :func:`rdcn.core.architectures.truncate` cuts it at any layer). :func:`encoder_input` and :func:`displayed` put
photographs into, and back out of, the form the encoder was trained on.
"""
from __future__ import annotations

import dataclasses
import functools

import torch
import torch.nn.functional as F
from torch import nn

from ..core import architectures, cache, checks, data, jobs, operators, profiles, seeds, training
from . import imagenet_weights

CHAPTER = "random_cnn_trained_dcn"
DOMAINS = ("domain", "photos")
IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)


def on_imagenet(sizes) -> bool:
    """Whether chapter 2 runs at ``sizes`` on ImageNet with torchvision's weights (the paper profile) rather than
    offline on Fashion-MNIST with our classifiers. ``sizes`` must be chapter 2's (:func:`rdcn.core.profiles.sizes`)."""
    # profiles.Sizes keeps its chapter and profile in private fields (no public accessor yet)
    if not isinstance(sizes, profiles.Sizes) or sizes.chapter != CHAPTER:
        raise ValueError(f"sizes must be chapter {CHAPTER!r}'s sizes (rdcn.core.profiles.sizes), got {sizes!r}")
    return sizes.profile == "paper"


def image_size(architecture: str, sizes, domain: str = "domain") -> int:
    """The one rule for chapter 2's input sizes: on the classifier's images (``domain``) ``image_size`` for VGG16
    and ``alexnet_size`` for AlexNet (whose stride-4 first conv and three 3/2 poolings need ≳ 64 px); on
    photographs ``photo_size`` for VGG16 and ``alexnet_size`` for AlexNet."""
    checks.choice("architecture", architecture, architectures.ARCHITECTURES)
    checks.choice("domain", domain, DOMAINS)
    if architecture == "alexnet":
        return sizes.alexnet_size
    return sizes.image_size if domain == "domain" else sizes.photo_size


def fashion_images(images: torch.Tensor, size: int) -> torch.Tensor:
    """Fashion-MNIST uint8 images (N×28×28) → N×3×size×size float in [0, 1]: resized (bilinear, as
    :func:`rdcn.core.data.resize`), the gray channel replicated three times."""
    x = images[:, None].float() / 255.0
    return data.resize(x, size).expand(-1, 3, -1, -1)


class Classifier(nn.Module):
    """``encoder`` (the whole CNN of ``layers``, every block with its pooling) → global average pool → linear."""

    def __init__(self, layers, classes: int = 10):
        super().__init__()
        self.encoder = architectures.build_encoder(layers)
        self.head = nn.Linear(architectures.convs(layers)[-1].out_channels, classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.encoder(x).mean(dim=(-2, -1)))


@torch.no_grad()
def initialise_(model: Classifier, generator: torch.Generator) -> Classifier:
    """Kaiming-normal convolutions (fan out, ReLU; zero biases) and a N(0, 0.01²) head, from ``generator``."""
    for module in model.modules():
        if isinstance(module, nn.Conv2d):
            nn.init.kaiming_normal_(module.weight, mode="fan_out", nonlinearity="relu", generator=generator)
            module.bias.zero_()
        elif isinstance(module, nn.Linear):
            nn.init.normal_(module.weight, 0.0, 0.01, generator=generator)
            module.bias.zero_()
    return model


@torch.no_grad()
def accuracy(model: nn.Module, images: torch.Tensor, labels: torch.Tensor, size: int, device: str,
             chunk: int = 500) -> float:
    """Top-1 accuracy of ``model`` on Fashion-MNIST ``images`` (uint8 N×28×28) with ``labels``."""
    correct = 0
    for start in range(0, len(images), chunk):
        x = fashion_images(images[start : start + chunk], size).to(device)
        correct += int((model(x).argmax(1).cpu() == labels[start : start + chunk]).sum())
    return correct / len(images)


class Snapshots(nn.Module):
    """Copies of ``encoder``'s weights at the given iteration counts, as buffers, so that they are saved in (and
    restored from) the training checkpoint: :meth:`step` is called once per iteration before its update and copies
    the weights when as many updates as a snapshot's count have been made."""

    def __init__(self, encoder: nn.Module, iterations: tuple[int, ...]):
        super().__init__()
        self.iterations = tuple(iterations)
        self.register_buffer("updates", torch.zeros((), dtype=torch.long))
        for count in self.iterations:
            for name, value in encoder.state_dict().items():
                self.register_buffer(self._name(count, name), torch.zeros_like(value))

    @staticmethod
    def _name(count: int, name: str) -> str:
        return f"at{count}__{name.replace('.', '__')}"

    @torch.no_grad()
    def step(self, encoder: nn.Module) -> None:
        if int(self.updates) in self.iterations:
            for name, value in encoder.state_dict().items():
                getattr(self, self._name(int(self.updates), name)).copy_(value)
        self.updates += 1

    def states(self, encoder: nn.Module) -> dict[str, dict[str, torch.Tensor]]:
        """The snapshots, by iteration count (as a string), each a state dict of ``encoder``."""
        return {str(count): {name: getattr(self, self._name(count, name)).clone()
                             for name in encoder.state_dict()} for count in self.iterations}


def classifier_config(architecture: str, sizes, seed: int = 0, device: str = "cpu", width: float | None = None
                      ) -> dict:
    """Everything that defines one Fashion-MNIST classifier of chapter 2 (the job's arguments, hashed for its
    cache key): ``width`` replaces the chapter's; only the classifier at the chapter's width keeps snapshots."""
    checks.choice("architecture", architecture, architectures.ARCHITECTURES)
    own_width = width is None or width == sizes.width
    width = sizes.width if width is None else checks.positive_number("width", width)
    snapshots = tuple(sizes.classifier_snapshots) if own_width and architecture == "vgg16" else ()
    if any(count >= sizes.classifier_iterations for count in snapshots):
        raise ValueError(f"classifier_snapshots {snapshots} must be below classifier_iterations "
                         f"{sizes.classifier_iterations} (all of the training is the trained encoder itself)")
    return dict(architecture=architecture, width=width, image_size=image_size(architecture, sizes),
                iterations=sizes.classifier_iterations, batch=sizes.classifier_batch, lr=sizes.classifier_lr,
                eval_every=sizes.classifier_eval_every, curve_images=sizes.classifier_curve_images,
                checkpoint_every=sizes.checkpoint_every, test_images=sizes.test_images,
                snapshots=[0, *snapshots], seed=seeds.derive(seed, "classifier", architecture, width),
                device=device)


@functools.cache
def _code() -> str:
    """A digest of the source code that makes a classifier (computed once per process)."""
    return cache.key({}, code=(architectures, operators, data, training, fashion_images, Classifier, initialise_,
                               accuracy, Snapshots, _fit, train_classifier))


def classifier_key(config: dict) -> str:
    """The cache key (``classifier-<hash>``) of the classifier ``config`` describes (and the code that trains it)."""
    return f"classifier-{cache.key(dict(config, code=_code()))}"


def _fit(config: dict, train_set, curve, checkpoint) -> tuple[Classifier, Snapshots, dict]:
    """One attempt at the classifier's training (:class:`rdcn.core.training.RestartNeeded` if its checkpoint did
    not fit)."""
    layers = architectures.architecture(config["architecture"], width=config["width"])
    size, device = config["image_size"], config["device"]
    schedule = training.Schedule(config["iterations"], config["batch"], config["lr"], 0.0, "cosine",
                                 config["eval_every"], config["checkpoint_every"])
    generator = torch.Generator().manual_seed(config["seed"])
    model = initialise_(Classifier(layers), generator).to(device)
    snapshots = Snapshots(model.encoder, tuple(config["snapshots"])).to(device)

    def loss(index: torch.Tensor) -> torch.Tensor:
        snapshots.step(model.encoder)
        x = training.to_device(fashion_images(train_set.data[index], size), device)
        return F.cross_entropy(model(x), training.to_device(train_set.targets[index], device))

    history = training.fit(dict(model=model, snapshots=snapshots), loss, len(train_set.data), schedule, generator,
                           sampling="epochs", checkpoint=checkpoint,
                           evaluate=lambda: dict(test_accuracy=accuracy(model, *curve, size, device)),
                           desc=f"classifier {config['architecture']} {config['width']:g}")
    return model, snapshots, history


def train_classifier(output: str, **config) -> None:
    """The job: train the classifier ``config`` describes (:func:`classifier_config`) and write it into the cache
    under the key ``output`` (the plan's: weights, snapshots, accuracy curve); resumes from its checkpoint if one is
    there."""
    key = output
    train_set, test_set = data.fashion_mnist(train=True), data.fashion_mnist(train=False)
    curve = test_set.data[: config["curve_images"]], test_set.targets[: config["curve_images"]]
    checkpoint = cache.path_for("checkpoint", key.removeprefix("classifier-"))
    while True:
        try:
            model, snapshots, history = _fit(config, train_set, curve, checkpoint)
            break
        except training.RestartNeeded:
            continue
    size, device, n = config["image_size"], config["device"], config["test_images"]
    test_accuracy = accuracy(model, test_set.data[:n], test_set.targets[:n], size, device)
    tail = history["train"][-max(1, config["iterations"] // 10):]
    info = dict(test_accuracy=test_accuracy, test_images=n, final_train_loss=sum(tail) / len(tail),
                curve=dict(iterations=[i - 1 for i in history["evaluated_at"]] + [config["iterations"]],
                           accuracy=history["test_accuracy"] + [accuracy(model, *curve, size, device)],
                           images=config["curve_images"]),
                **{k: config[k] for k in ("architecture", "width", "image_size", "iterations", "batch", "lr")})
    cache.save(cache.path_for(*key.split("-", 1)), dict(state=model.state_dict(), info=info, config=config,
                                                        snapshots=snapshots.states(model.encoder)))
    checkpoint.unlink(missing_ok=True)


@functools.lru_cache(maxsize=64)
def classifier_flops(architecture: str, width: float, size: int, batch: int) -> float:
    """FLOPs of one training step of a classifier (forward and backward on ``batch`` images of ``size`` px),
    counted on the meta device by :func:`rdcn.core.jobs.step_flops`."""
    layers = architectures.architecture(architecture, width=width)

    def step(device: str) -> None:
        model = Classifier(layers).to(device)
        x = torch.zeros(batch, 3, size, size, device=device)
        F.cross_entropy(model(x), torch.zeros(batch, dtype=torch.long, device=device)).backward()

    return jobs.step_flops(step)


def classifier_job(architecture: str, sizes, seed: int = 0, device: str = "cpu", width: float | None = None,
                   count_flops: bool = True) -> jobs.Job:
    """The job that trains one Fashion-MNIST classifier (:func:`classifier_config`), with its FLOPs per step (0
    unless ``count_flops``)."""
    config = classifier_config(architecture, sizes, seed, device, width)
    flops = classifier_flops(architecture, config["width"], config["image_size"], config["batch"]) if count_flops \
        else 0.0
    output = classifier_key(config)
    return jobs.Job(output, f"classifier {architecture} width {config['width']:g}",
                    "rdcn.he.trained_encoder:train_classifier", dict(config, output=output), (), flops,
                    config["iterations"])


class Normalize(nn.Module):
    """``(x − mean) / std`` per channel: the ImageNet input normalisation of torchvision's weights."""

    def __init__(self, mean, std):
        super().__init__()
        self.register_buffer("mean", torch.tensor(mean, dtype=torch.float32)[:, None, None])
        self.register_buffer("std", torch.tensor(std, dtype=torch.float32)[:, None, None])

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return (x - self.mean) / self.std


def input_normalization(info: dict) -> nn.Module:
    """The encoder's input normalisation as a module (identity offline, where ``info["normalize"]`` is None):
    put it in front of the encoder of :func:`trained_encoder`."""
    norm = info.get("normalize")
    return nn.Identity() if norm is None else Normalize(norm["mean"], norm["std"])


def _imagenet_encoder(architecture: str, layers) -> tuple[nn.Sequential, dict]:
    state, identity = imagenet_weights.load(architecture)
    encoder = architectures.build_encoder(layers)
    theirs = [(k.removesuffix(".weight"), v) for k, v in state.items() if k.startswith("features.") and v.ndim == 4]
    ours = [m for m in encoder.modules() if isinstance(m, nn.Conv2d)]
    if len(theirs) != len(ours):
        raise ValueError(f"{identity['file']} holds {len(theirs)} convolutions, {architecture} has {len(ours)}")
    for module, (name, weight) in zip(ours, theirs):
        if module.weight.shape != weight.shape:
            raise ValueError(f"ImageNet weights need the full-width {architecture} (width 1.0): {name} has shape "
                             f"{tuple(weight.shape)}, the encoder's conv {tuple(module.weight.shape)}")
        with torch.no_grad():
            module.weight.copy_(weight)
            module.bias.copy_(state[f"{name}.bias"])
    return encoder, identity


def trained_encoder(architecture: str, sizes, device: str = "cpu", seed: int = 0, data_dir: str = "", *,
                    width: float | None = None, iteration: int | None = None, key: str | None = None
                    ) -> tuple[tuple, nn.Sequential, dict]:
    """The ``architecture`` encoder trained for classification, at chapter 2's ``sizes``
    (``profiles.sizes("random_cnn_trained_dcn", profile, **overrides)``, resolved once by the caller):
    ``(layers, encoder, info)``.

    ``encoder`` is ``build_encoder(layers)`` (ReLU, max pooling, every block), frozen, in eval mode, on ``device``.
    ``info`` holds ``test_accuracy``, ``dataset``, ``image_size``, ``width``, ``normalize`` (apply with
    :func:`input_normalization`) and, at the paper profile, the weights' ``file``, ``sha256`` and ``verified``.
    Offline, ``width`` replaces the chapter's width and ``iteration`` (0 or one of ``classifier_snapshots``) gives
    the encoder part-way through its training; a classifier not in the cache is trained here (one job,
    :func:`rdcn.core.jobs.execute`) — except where ``key`` names the cache key to read (a job that needs the
    classifier passes its plan's key): then a missing classifier is a FileNotFoundError. ``data_dir`` does not
    change the classifier (at the paper profile the weights and their accuracy are torchvision's); it is accepted
    so every chapter calls this the same way.

    Raises ValueError for an unknown ``architecture``, a ``sizes`` of another chapter or a snapshot that is not
    kept, FileNotFoundError / ValueError at the paper profile where torchvision's weights are missing or not
    verified (:mod:`rdcn.he.imagenet_weights`).
    """
    checks.choice("architecture", architecture, architectures.ARCHITECTURES)
    if not isinstance(data_dir, str):
        raise TypeError(f"data_dir must be a string (a folder, or '' for none), got {data_dir!r}")
    profiles.check_device(device)
    if on_imagenet(sizes):
        if iteration is not None or width not in (None, sizes.width):
            raise ValueError("at the paper profile the trained encoder is torchvision's ImageNet one: no other width "
                             "and no snapshot of its training exist")
        layers = architectures.architecture(architecture, width=sizes.width)
        encoder, identity = _imagenet_encoder(architecture, layers)
        info = dict(identity, dataset="ImageNet-1K (torchvision IMAGENET1K_V1, accuracy as torchvision reports it)",
                    image_size=image_size(architecture, sizes), width=sizes.width,
                    normalize=dict(mean=IMAGENET_MEAN, std=IMAGENET_STD))
    else:
        config = classifier_config(architecture, sizes, seed, device, width)
        if iteration is not None and iteration not in config["snapshots"]:
            raise ValueError(f"iteration must be one of the kept snapshots {config['snapshots']} (or None for all of "
                             f"the training), got {iteration!r}")
        job = classifier_job(architecture, sizes, seed, device, width, count_flops=False)
        if key is not None:
            job = dataclasses.replace(job, key=key)
        payload = cache.load(job.output)
        if payload is None and key is not None:
            raise FileNotFoundError(f"the classifier {key} that {job.label!r} needs is not in the cache")
        if payload is None:
            jobs.execute(job)
            payload = cache.load(job.output)
        layers = architectures.architecture(architecture, width=config["width"])
        model = Classifier(layers)
        model.load_state_dict(payload["state"])
        encoder = model.encoder
        if iteration is not None:
            encoder.load_state_dict(payload["snapshots"][str(iteration)])
        info = dict(payload["info"], dataset="Fashion-MNIST", normalize=None, cache_key=job.key, iteration=iteration)
    encoder.to(device).eval().requires_grad_(False)
    return layers, encoder, info


def encoder_input(images: torch.Tensor, info: dict) -> torch.Tensor:
    """Photographs (N×3×H×W in [0, 1]) as the encoder of :func:`trained_encoder` saw its training data: gray
    (scikit-image's ``rgb2gray``) replicated into three channels where it was trained on Fashion-MNIST, normalised
    as ``info["normalize"]`` says (ImageNet's mean and std at the paper profile)."""
    if info["dataset"] == "Fashion-MNIST":
        from skimage.color import rgb2gray

        gray = rgb2gray(images.detach().cpu().permute(0, 2, 3, 1).numpy(), channel_axis=-1)
        images = torch.from_numpy(gray).to(images)[:, None].expand(-1, 3, -1, -1).contiguous()
    return input_normalization(info).to(images.device)(images)


def displayed(images: torch.Tensor, info: dict) -> torch.Tensor:
    """The inverse of :func:`encoder_input`'s normalisation, for showing inputs and reconstructions."""
    norm = info.get("normalize")
    if norm is None:
        return images
    mean, std = (images.new_tensor(norm[key]).view(1, -1, 1, 1) for key in ("mean", "std"))
    return images * std + mean

