"""Encoders trained for classification: the "pre-trained CNN" He et al. §3 compares the random CNN with (SPEC §3).

- ``paper`` profile: torchvision's ImageNet weights of VGG16 / AlexNet
  (:func:`rdcn.architectures.load_imagenet_weights`, local torch hub cache only). Inputs are normalised with
  ImageNet's mean and std (``info["normalize"]``, applied by :func:`normalize` or :func:`input_normalization`).
- ``smoke`` / ``book`` profiles (offline): the same architecture at the profile's width, trained here on
  Fashion-MNIST (Xiao et al. 2017; 28×28 gray, resized to the profile's size, gray replicated into three
  channels, range [0, 1], no normalisation: ``info["normalize"]`` is None). The head is ours: global average
  pooling of the last block's pooled maps, then one linear layer; Adam, cross-entropy, Kaiming-normal init
  (torchvision's VGG init), seeded batches. The trained encoder is cached by a hash of its whole configuration
  and of this code (:mod:`rdcn.cache`), so a second call only reads it.

:func:`trained_encoder` is the interface: ``(layers, encoder, info)``, the encoder frozen, in eval mode, built by
:func:`rdcn.architectures.build_encoder` (so :func:`rdcn.architectures.truncate` cuts it at any layer).
"""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn
from tqdm.auto import tqdm

from ..core import architectures, cache, data, operators, profiles

CHAPTER = "random_cnn_trained_dcn"
IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)


def image_size(arch: str, sizes) -> int:
    """The input size the profile uses for ``arch``: ``image_size`` for VGG16, ``alexnet_size`` for AlexNet
    (torchvision's AlexNet needs ≳ 64 px: conv1 has stride 4, then three 3/2 poolings)."""
    if arch not in architectures.ARCHITECTURES:
        raise ValueError(f"arch must be one of {list(architectures.ARCHITECTURES)}, got {arch!r}")
    return sizes.image_size if arch == "vgg16" else sizes.alexnet_size


def fashion_images(images: torch.Tensor, size: int) -> torch.Tensor:
    """Fashion-MNIST uint8 images (N×28×28) → N×3×size×size float in [0, 1]: resized (bilinear, as
    :func:`rdcn.data.resize`), the gray channel replicated three times."""
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
    model.eval()
    correct = 0
    for start in range(0, len(images), chunk):
        x = fashion_images(images[start : start + chunk], size).to(device)
        correct += int((model(x).argmax(1).cpu() == labels[start : start + chunk]).sum())
    return correct / len(images)


def train(model: Classifier, size: int, iterations: int, batch: int, lr: float, seed: int, device: str,
          test_images: int) -> dict:
    """Train ``model`` (in place) on Fashion-MNIST's training set; return its accuracy on the first
    ``test_images`` test images, the final training loss and the sizes."""
    train_set, test_set = data.fashion_mnist(train=True), data.fashion_mnist(train=False)
    generator = torch.Generator().manual_seed(seed)
    initialise_(model, generator)
    model.to(device).train()
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    losses = []
    for _ in tqdm(range(iterations), desc=f"classifier {size}px", leave=False):
        index = torch.randint(len(train_set.data), (batch,), generator=generator)
        x = fashion_images(train_set.data[index], size).to(device)
        loss = F.cross_entropy(model(x), train_set.targets[index].to(device))
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    tail = losses[-max(1, iterations // 10):]
    test_accuracy = accuracy(model, test_set.data[:test_images], test_set.targets[:test_images], size, device)
    return dict(test_accuracy=test_accuracy, test_images=test_images, final_train_loss=sum(tail) / len(tail),
                iterations=iterations, batch=batch, lr=lr)


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


def normalize(images: torch.Tensor, info: dict) -> torch.Tensor:
    """Apply the encoder's input normalisation (``info["normalize"]``: ImageNet mean/std at the paper profile,
    None offline) to an N×3×H×W batch in [0, 1]; call this on images before the encoder of
    :func:`trained_encoder`."""
    return input_normalization(info).to(images.device)(images)


def trained_encoder(arch: str, profile: str, device: str = "cpu", seed: int = 0, data_dir: str = "",
                    **overrides) -> tuple[tuple, nn.Sequential, dict]:
    """The ``arch`` encoder trained for classification at ``profile``: ``(layers, encoder, info)``.

    ``layers`` is the architecture at the profile's width; ``encoder`` is ``build_encoder(layers)`` (ReLU, max
    pooling, every block, frozen, eval mode, on ``device``). ``info`` holds ``test_accuracy``, ``dataset``,
    ``image_size``, ``width`` and ``normalize`` (apply with :func:`normalize`). ``overrides`` replace the chapter's
    sizes (:func:`rdcn.profiles.sizes`). ``data_dir`` (the user's images) does not change the classifier: at the
    paper profile the weights and the accuracy are torchvision's ImageNet ones; it is accepted so every chapter
    calls this the same way.

    Raises ValueError for an unknown ``arch``/``profile``/size, FileNotFoundError at the paper profile where
    torchvision's weights are not cached.
    """
    if arch not in architectures.ARCHITECTURES:
        raise ValueError(f"arch must be one of {list(architectures.ARCHITECTURES)}, got {arch!r}")
    if not isinstance(data_dir, str):
        raise TypeError(f"data_dir must be a string (a folder, or '' for none), got {data_dir!r}")
    S = profiles.sizes(CHAPTER, profile, **overrides)
    profiles.check_device(device)
    size = image_size(arch, S)
    layers = architectures.architecture(arch, width=S.width)
    if profile == "paper":
        import torchvision.models as tvm

        encoder = architectures.load_imagenet_weights(architectures.build_encoder(layers), arch)
        weights = getattr(tvm, {"vgg16": "VGG16_Weights", "alexnet": "AlexNet_Weights"}[arch]).IMAGENET1K_V1
        info = dict(test_accuracy=weights.meta["_metrics"]["ImageNet-1K"]["acc@1"] / 100,
                    dataset="ImageNet-1K (torchvision IMAGENET1K_V1, accuracy as torchvision reports it)",
                    image_size=size, width=S.width, normalize=dict(mean=IMAGENET_MEAN, std=IMAGENET_STD))
    else:
        config = dict(arch=arch, layers=layers, image_size=size, iterations=S.classifier_iterations,
                      batch=S.classifier_batch, lr=S.classifier_lr, test_images=S.test_images, seed=seed,
                      device=device, dataset="fashion-mnist")
        model, info = cache.cached_module(
            "classifier", config, lambda: Classifier(layers),
            lambda m: train(m, size, S.classifier_iterations, S.classifier_batch, S.classifier_lr, seed, device,
                            S.test_images),
            code=(architectures, operators, data, fashion_images, Classifier, initialise_, accuracy, train))
        encoder = model.encoder
        info.update(dataset="Fashion-MNIST", image_size=size, width=S.width, normalize=None)
    encoder.to(device).eval().requires_grad_(False)
    return layers, encoder, info


#: Luminance weights of scikit-image's ``rgb2gray`` (the grayscale of :mod:`rdcn.metrics`).
GRAY = (0.2125, 0.7154, 0.0721)


def encoder_input(images: torch.Tensor, info: dict) -> torch.Tensor:
    """Photographs (N×3×H×W in [0, 1]) as the trained encoder of :func:`rdcn.classifier.trained_encoder` saw its
    training data: gray replicated into three channels where it was trained on Fashion-MNIST, normalised as
    ``info["normalize"]`` says (ImageNet's mean and std at the paper profile)."""
    if info["dataset"] == "Fashion-MNIST":
        gray = (images * images.new_tensor(GRAY).view(1, 3, 1, 1)).sum(1, keepdim=True)
        images = gray.expand(-1, 3, -1, -1).contiguous()
    return normalize(images, info)


def displayed(images: torch.Tensor, info: dict) -> torch.Tensor:
    """The inverse of :func:`encoder_input`'s normalisation, for showing inputs and reconstructions."""
    norm = info.get("normalize")
    if norm is None:
        return images
    mean, std = (images.new_tensor(norm[key]).view(1, -1, 1, 1) for key in ("mean", "std"))
    return images * std + mean
