"""The one training loop of the package (:func:`fit`), and DCN training on it (He et al. §3.1, Eq. 1).

:func:`fit` minimises a loss over mini-batches of a data set with Adam (Kingma & Ba 2015) and L2 weight decay, the
learning rate constant, halved at 1/2 and 3/4 of the iterations ("multistep"; He et al. give no milestones), or
annealed to 0 along a cosine. Mini-batches are drawn from one seeded CPU generator, with replacement or as
seeded permutations (epochs). Every ``checkpoint_every`` iterations and at the end, the whole state (the modules,
optimiser, schedule, generator, sampler and history) is saved, so a run that is interrupted resumes where its last
checkpoint stopped and ends with exactly the weights of an uninterrupted run. The loop does not wait for the
device at each iteration: the mini-batch losses are read back every :data:`LOSS_READBACK` iterations (and at a
checkpoint, an evaluation and the end), and :func:`to_device` copies a mini-batch to a GPU from pinned memory
without blocking, so the host queues the next iterations while the GPU computes. Every model of the book is trained
by it: the DCNs of chapter 2 (:func:`train_dcn`), the classifiers behind its trained encoders, and Gilbert et al.'s
random- and learned-filter classifiers.

DCN training (:func:`train_dcn`): the encoder is frozen (random, or trained for classification); the DCN minimises
the sum over pixels of the squared error between the input image and its reconstruction (:func:`sse`; the
per-pixel mean is that divided by C·H·W), averaged over a mini-batch. It starts from the "MSRA" initialisation
(He et al. 2015; Kaiming normal, fan-in, zero biases), drawn from the same generator as the mini-batches. A frozen
encoder's features of an image are the same at every iteration, so they are computed once per image where they fit
in memory (:class:`EncodedImages`), not once per draw.
"""
from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import torch
from torch import nn
from tqdm.auto import tqdm

from . import cache, checks

DECAYS = ("constant", "multistep", "cosine")
#: iterations whose mini-batch losses stay on the device before one read-back (one host–device sync) into the history
LOSS_READBACK = 100
SAMPLINGS = ("replacement", "epochs")
#: the most bytes of features :class:`EncodedImages` holds for one set of images (more: each mini-batch is encoded)
FEATURE_BYTES = 1 << 30


@dataclass(frozen=True)
class Schedule:
    """The optimisation sizes of one training run (``eval_every``/``checkpoint_every`` None: never)."""

    iterations: int
    batch: int
    lr: float
    weight_decay: float = 0.0
    decay: str = "multistep"
    eval_every: int | None = None
    checkpoint_every: int | None = None

    def __post_init__(self):
        checks.positive_int("iterations", self.iterations)
        checks.positive_int("batch", self.batch)
        checks.positive_number("lr", self.lr)
        checks.non_negative_number("weight_decay", self.weight_decay)
        checks.choice("decay", self.decay, DECAYS)
        for name in ("eval_every", "checkpoint_every"):
            if getattr(self, name) is not None:
                checks.positive_int(name, getattr(self, name))

    @classmethod
    def from_sizes(cls, sizes) -> Schedule:
        """The DCN schedule of chapter 2's profile sizes (:func:`rdcn.core.profiles.sizes`)."""
        return cls(sizes.iterations, sizes.batch, sizes.lr, sizes.weight_decay, "multistep", sizes.eval_every,
                   sizes.checkpoint_every)


def _scheduler(optimizer: torch.optim.Optimizer, schedule: Schedule):
    if schedule.decay == "multistep":
        n = schedule.iterations
        return torch.optim.lr_scheduler.MultiStepLR(optimizer, sorted({max(1, n // 2), max(1, 3 * n // 4)}), gamma=0.5)
    if schedule.decay == "cosine":
        return torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=schedule.iterations)
    return torch.optim.lr_scheduler.LambdaLR(optimizer, lambda _: 1.0)


class _Sampler:
    """Mini-batch indices into ``items`` items: with replacement, or epoch by epoch through seeded permutations."""

    def __init__(self, items: int, batch: int, sampling: str, generator: torch.Generator):
        self.items, self.batch, self.sampling, self.generator = items, batch, sampling, generator
        self.order, self.position = torch.empty(0, dtype=torch.long), 0

    def next(self) -> torch.Tensor:
        if self.sampling == "replacement":
            return torch.randint(self.items, (self.batch,), generator=self.generator)
        if self.position >= len(self.order):
            self.order, self.position = torch.randperm(self.items, generator=self.generator), 0
        index = self.order[self.position : self.position + self.batch]
        self.position += self.batch
        return index

    def state(self) -> dict:
        return dict(order=self.order, position=self.position)

    def load(self, state: dict) -> None:
        self.order, self.position = state["order"], int(state["position"])


def iterations_per_epoch(items: int, batch: int) -> int:
    """Mini-batches in one pass over ``items`` items (the last one may be smaller)."""
    return math.ceil(checks.positive_int("items", items) / checks.positive_int("batch", batch))


def fit(modules: dict[str, nn.Module], loss: Callable[[torch.Tensor], torch.Tensor], items: int, schedule: Schedule,
        generator: torch.Generator, sampling: str = "replacement",
        evaluate: Callable[[], dict[str, float]] | None = None, checkpoint: Path | None = None,
        callback: Callable[[int], None] | None = None, desc: str = "training") -> dict[str, list]:
    """Train the trainable parameters of ``modules`` (in place) to minimise ``loss(indices)``, the mean loss of the
    mini-batch ``indices`` of a data set of ``items`` items; see the module's note. The modules are in train mode
    while training, in eval mode for ``evaluate()`` (every ``eval_every`` iterations, before that iteration's
    update, and at the first) and at the end.

    With ``checkpoint`` a path, the state is saved there every ``checkpoint_every`` iterations and at the end, and
    a run finds and resumes it. A checkpoint that does not fit is reported
    (:class:`rdcn.core.cache.CorruptCacheWarning`) and deleted, and :class:`RestartNeeded` is raised: the caller
    draws its initial weights again and calls :func:`fit` anew. ``callback(i)`` runs after iteration i (1-based) has
    been saved where due. Returns the history: ``train`` (the loss of each iteration's mini-batch, before its
    update), ``evaluated_at`` (1-based iterations) and one list per key of ``evaluate``'s dicts.
    """
    checks.positive_int("items", items)
    checks.choice("sampling", sampling, SAMPLINGS)
    parameters = [p for m in modules.values() for p in m.parameters() if p.requires_grad]
    if not parameters:
        raise ValueError("fit needs at least one trainable parameter")
    optimizer = torch.optim.Adam(parameters, lr=schedule.lr, weight_decay=schedule.weight_decay)
    scheduler = _scheduler(optimizer, schedule)
    sampler = _Sampler(items, schedule.batch, sampling, generator)
    history: dict[str, list] = dict(train=[], evaluated_at=[])
    start = 0
    saved = cache.load(checkpoint) if checkpoint is not None else None
    if saved is not None:
        try:
            for name, module in modules.items():
                module.load_state_dict(saved["modules"][name])
            optimizer.load_state_dict(saved["optimizer"])
            scheduler.load_state_dict(saved["scheduler"])
            generator.set_state(saved["generator"])
            sampler.load(saved["sampler"])
            start, history = int(saved["iteration"]), {k: list(v) for k, v in saved["history"].items()}
        except Exception as error:  # a checkpoint of another shape or format
            cache.discard(checkpoint, error)
            raise RestartNeeded(str(checkpoint)) from None

    pending: list[torch.Tensor] = []  # the losses not yet read back from the device

    def read_back() -> None:
        if pending:
            history["train"].extend(torch.stack(pending).tolist())
            pending.clear()

    def save(done: int) -> None:
        read_back()
        cache.save(checkpoint, dict(modules={n: m.state_dict() for n, m in modules.items()},
                                    optimizer=optimizer.state_dict(), scheduler=scheduler.state_dict(),
                                    generator=generator.get_state(), sampler=sampler.state(), iteration=done,
                                    history=history))

    def mode(train: bool) -> None:
        for module in modules.values():
            module.train(train)

    mode(True)
    for i in tqdm(range(start, schedule.iterations), desc=desc, initial=start, total=schedule.iterations, leave=False):
        if evaluate is not None and schedule.eval_every is not None and i % schedule.eval_every == 0:
            read_back()
            mode(False)
            for key, value in evaluate().items():
                history.setdefault(key, []).append(float(value))
            history["evaluated_at"].append(i + 1)
            mode(True)
        value = loss(sampler.next())
        optimizer.zero_grad(set_to_none=True)
        value.backward()
        optimizer.step()
        scheduler.step()
        pending.append(value.detach())
        done = i + 1
        if len(pending) >= LOSS_READBACK:
            read_back()
        if checkpoint is not None and ((schedule.checkpoint_every and done % schedule.checkpoint_every == 0)
                                       or done == schedule.iterations):
            save(done)
        if callback is not None:
            callback(done)
    read_back()
    mode(False)
    return history


class RestartNeeded(Exception):
    """A checkpoint did not fit the model (reported and deleted): the caller starts the run over from its seed."""


def sse(output: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Per-image sum of squared errors (He et al. Eq. 1's summand): an N-vector."""
    if output.shape != target.shape:
        raise ValueError(f"output and target differ in shape: {tuple(output.shape)} vs {tuple(target.shape)}")
    return (output - target).pow(2).flatten(1).sum(1)


@torch.no_grad()
def msra_(decoder: nn.Module, generator: torch.Generator) -> nn.Module:
    """"MSRA" initialisation of every conv of ``decoder`` (Kaiming normal, fan-in, ReLU gain), zero biases."""
    for module in decoder.modules():
        if isinstance(module, nn.Conv2d):
            nn.init.kaiming_normal_(module.weight, mode="fan_in", nonlinearity="relu", generator=generator)
            if module.bias is not None:
                module.bias.zero_()
    return decoder


@torch.no_grad()
def reconstruct(encoder: nn.Module, decoder: nn.Module, images: torch.Tensor, chunk: int = 64) -> torch.Tensor:
    """The DCN's reconstructions of ``images`` (on the encoder's device, in chunks), returned on the CPU."""
    device = next(decoder.parameters()).device
    out = []
    for start in range(0, len(images), chunk):
        x = images[start : start + chunk].to(device)
        out.append(decoder(encoder(x), x.shape[-2:]).cpu())
    return torch.cat(out)


def to_device(batch: torch.Tensor, device: str | torch.device) -> torch.Tensor:
    """A mini-batch on ``device``: from the CPU to a GPU through pinned memory without blocking the host (the copy
    is ordered before the kernels that read it on the same stream), otherwise by ``Tensor.to``."""
    if torch.device(device).type == "cuda" and batch.device.type == "cpu":
        return batch.pin_memory().to(device, non_blocking=True)
    return batch.to(device)


def batch_of(images, index: torch.Tensor) -> torch.Tensor:
    """Images ``index`` of a tensor, or of a dataset with a ``batch(indices)`` method (e.g.
    :class:`rdcn.core.data.RandomCrops`, which makes its images on demand)."""
    return images[index] if isinstance(images, torch.Tensor) else images.batch(index.tolist())


def holds_features(bytes_per_image: int, images: int, draws: int) -> bool:
    """Whether :class:`EncodedImages` computes the features of a set of ``images`` images (held in memory, their
    features ``bytes_per_image`` bytes each) once: when they fit in :data:`FEATURE_BYTES` and the run reads at least
    as many images as the set holds (``draws``)."""
    return draws >= images and bytes_per_image * images <= FEATURE_BYTES


class EncodedImages:
    """A set of images (an N×C×H×W CPU tensor or a dataset, see :func:`batch_of`) with their features under a
    frozen ``encoder``, served by index on ``device``.

    Where the set is a tensor, its features fit in :data:`FEATURE_BYTES` and the run reads at least as many images
    as the set holds (``draws``), the images and their features are put on the device once (the features computed
    in chunks of ``chunk``) and each mini-batch is indexed out of them: an image's features are then computed once,
    not at every draw. A conv's output for one image does not depend on the other images of its batch, so the
    features are those each mini-batch would have computed (to the last bit on the CPUs we measured; to float
    rounding wherever a kernel blocks the batch otherwise). Otherwise each mini-batch is read and encoded as it
    is drawn."""

    def __init__(self, encoder: nn.Module, images, device: str | torch.device, draws: int, chunk: int = 64):
        self.encoder, self.images, self.device = encoder, images, device
        self.features = None
        if isinstance(images, torch.Tensor) and len(images) and draws >= len(images):
            with torch.no_grad():
                one = encoder(to_device(images[:1], device))
            if holds_features(one.numel() * one.element_size(), len(images), draws):
                self.images = images.to(device)
                with torch.no_grad():
                    self.features = torch.cat([encoder(self.images[i : i + chunk])
                                               for i in range(0, len(images), chunk)])

    def __len__(self) -> int:
        return len(self.images)

    def batch(self, index: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """(images, features) of the images ``index`` (a CPU index tensor), on the device."""
        if self.features is not None:
            index = to_device(index, self.images.device)  # to a GPU without waiting for it
            return self.images[index], self.features[index]
        x = to_device(batch_of(self.images, index), self.device)
        with torch.no_grad():
            return x, self.encoder(x)


def mean_sse(decoder: nn.Module, encoded: EncodedImages, n: int | None = None, chunk: int = 64) -> float:
    """Mean over the first ``n`` images of ``encoded`` (None: all) of the per-image sum of squared reconstruction
    errors by ``decoder``, in chunks."""
    n = len(encoded) if n is None else min(n, len(encoded))
    total = 0.0
    with torch.no_grad():
        for start in range(0, n, chunk):
            x, z = encoded.batch(torch.arange(start, min(n, start + chunk)))
            total += float(sse(decoder(z, x.shape[-2:]), x).sum())
    return total / n


def train_dcn(encoder: nn.Module, decoder: nn.Module, train_images, held_out_images: torch.Tensor,
              schedule: Schedule, seed: int, device: str = "cpu", checkpoint: Path | None = None,
              callback: Callable[[int], None] | None = None, desc: str = "DCN") -> dict[str, list]:
    """Train ``decoder`` (in place) to invert the frozen ``encoder`` on ``train_images`` (an N×C×H×W CPU tensor
    or a dataset, see :func:`batch_of`) with :func:`fit`: mini-batches drawn with replacement, the MSRA start and
    the mini-batches from one generator seeded with ``seed``, and every ``eval_every`` iterations the mean SSE on
    all of ``held_out_images`` (``held_out``). The features of both sets are computed once where they fit
    (:class:`EncodedImages`). Returns :func:`fit`'s history."""
    if len(train_images) == 0 or len(held_out_images) == 0:
        raise ValueError("train_images and held_out_images must each hold at least one image")
    encoder.to(device).eval().requires_grad_(False)
    train = EncodedImages(encoder, train_images, device, schedule.iterations * schedule.batch)
    evaluations = 0 if schedule.eval_every is None else math.ceil(schedule.iterations / schedule.eval_every)
    held_out = EncodedImages(encoder, held_out_images, device, evaluations * len(held_out_images))
    while True:
        generator = torch.Generator().manual_seed(seed)
        msra_(decoder, generator)
        decoder.to(device)

        def loss(index: torch.Tensor) -> torch.Tensor:
            x, z = train.batch(index)
            return sse(decoder(z, x.shape[-2:]), x).mean()

        try:
            return fit(dict(decoder=decoder), loss, len(train), schedule, generator,
                       evaluate=lambda: dict(held_out=mean_sse(decoder, held_out)),
                       checkpoint=checkpoint, callback=callback, desc=desc)
        except RestartNeeded:
            continue
