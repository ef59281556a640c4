"""Training a DCN to invert a fixed CNN's features (He et al. §3.1, Eq. 1; SPEC §3).

The encoder is frozen (random, or trained for classification); the DCN minimises the sum over pixels of the
squared error between the input image and its reconstruction (:func:`sse`; the per-pixel mean is that divided by
C·H·W), averaged over a mini-batch, with Adam (Kingma & Ba 2015) and L2 weight decay, the learning rate
decaying in steps ("multistep"; the paper gives no milestones: we halve it at 1/2 and 3/4 of the iterations).
The DCN starts from the "MSRA" initialisation (He et al. 2015; Kaiming normal, fan-in, zero biases).

Every random choice (initial weights, mini-batches) comes from one seeded CPU generator. The whole state
(DCN, optimiser, schedule, generator, loss histories) is checkpointed every ``checkpoint_every`` iterations, so a
run that is interrupted resumes where its last checkpoint stopped and ends with exactly the weights of an
uninterrupted run; the finished checkpoint is the cached model (:mod:`rdcn.cache`).
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import torch
from torch import nn
from tqdm.auto import tqdm

from . import cache


@dataclass(frozen=True)
class Schedule:
    """The optimisation sizes of one DCN training run."""

    iterations: int
    batch: int
    lr: float
    weight_decay: float
    eval_every: int
    checkpoint_every: int

    def __post_init__(self):
        for name in ("iterations", "batch", "eval_every", "checkpoint_every"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"{name} must be a positive integer, got {value!r}")
        if not self.lr > 0:
            raise ValueError(f"lr must be positive, got {self.lr!r}")
        if not self.weight_decay >= 0:
            raise ValueError(f"weight_decay must be non-negative, got {self.weight_decay!r}")

    @classmethod
    def from_sizes(cls, sizes) -> Schedule:
        """The schedule of a chapter's profile sizes (:func:`rdcn.profiles.sizes`)."""
        return cls(sizes.iterations, sizes.batch, sizes.lr, sizes.weight_decay, sizes.eval_every,
                   sizes.checkpoint_every)


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


def mean_sse(encoder: nn.Module, decoder: nn.Module, images: torch.Tensor) -> float:
    """Mean over ``images`` of the per-image sum of squared reconstruction errors."""
    return float(sse(reconstruct(encoder, decoder, images), images).mean())


def _state(decoder, optimizer, scheduler, generator, iteration, history) -> dict:
    return dict(decoder=decoder.state_dict(), optimizer=optimizer.state_dict(), scheduler=scheduler.state_dict(),
                generator=generator.get_state(), iteration=iteration,
                history={k: torch.tensor(v, dtype=torch.float64) for k, v in history.items()})


def batch_of(images, index: torch.Tensor) -> torch.Tensor:
    """Images ``index`` of a tensor, or of a dataset with a ``batch(indices)`` method (e.g.
    :class:`rdcn.data.RandomCrops`, which makes its images on demand)."""
    return images[index] if isinstance(images, torch.Tensor) else images.batch(index.tolist())


def train_dcn(encoder: nn.Module, decoder: nn.Module, train_images, held_out_images: torch.Tensor,
              schedule: Schedule, seed: int, device: str = "cpu", checkpoint: Path | None = None,
              callback: Callable[[int], None] | None = None, desc: str = "DCN") -> dict[str, list[float]]:
    """Train ``decoder`` (in place) to invert the frozen ``encoder`` on ``train_images`` (an N×C×H×W CPU tensor
    or a dataset, see :func:`batch_of`).

    Each iteration draws a mini-batch (with replacement) of ``schedule.batch`` training images, records its
    mean per-image SSE before the update (``train``), and every ``eval_every`` iterations (and at the first)
    the mean SSE on all of ``held_out_images`` (``held_out``, at iterations ``held_out_at``, 1-based, counted
    before that iteration's update). With ``checkpoint`` a path, the whole state is saved there every
    ``checkpoint_every`` iterations and at the end, and a run finds and resumes it. ``callback(i)`` runs after
    iteration i (1-based) has been saved where due (the tests interrupt a run with it).
    Returns the history: ``train``, ``held_out``, ``held_out_at`` (lists).
    """
    if len(train_images) == 0 or len(held_out_images) == 0:
        raise ValueError("train_images and held_out_images must each hold at least one image")
    generator = torch.Generator().manual_seed(seed)
    msra_(decoder, generator)
    encoder.to(device).eval().requires_grad_(False)
    decoder.to(device).train()
    optimizer = torch.optim.Adam(decoder.parameters(), lr=schedule.lr, weight_decay=schedule.weight_decay)
    milestones = sorted({max(1, schedule.iterations // 2), max(1, 3 * schedule.iterations // 4)})
    scheduler = torch.optim.lr_scheduler.MultiStepLR(optimizer, milestones, gamma=0.5)
    history: dict[str, list[float]] = dict(train=[], held_out=[], held_out_at=[])
    start = 0
    saved = cache.load(checkpoint) if checkpoint is not None else None
    if saved is not None:
        try:
            decoder.load_state_dict(saved["decoder"])
            optimizer.load_state_dict(saved["optimizer"])
            scheduler.load_state_dict(saved["scheduler"])
            generator.set_state(saved["generator"])
            start = int(saved["iteration"])
            history = {k: saved["history"][k].tolist() for k in history}
        except Exception as error:  # a checkpoint of another shape or format: start over
            cache.discard(checkpoint, error)
            return train_dcn(encoder, decoder, train_images, held_out_images, schedule, seed, device, checkpoint,
                             callback, desc)
    for i in tqdm(range(start, schedule.iterations), desc=desc, initial=start, total=schedule.iterations,
                  leave=False):
        if i % schedule.eval_every == 0:
            decoder.eval()
            history["held_out"].append(mean_sse(encoder, decoder, held_out_images))
            history["held_out_at"].append(i + 1)
            decoder.train()
        index = torch.randint(len(train_images), (schedule.batch,), generator=generator)
        x = batch_of(train_images, index).to(device)
        with torch.no_grad():
            z = encoder(x)
        loss = sse(decoder(z, x.shape[-2:]), x).mean()
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        scheduler.step()
        history["train"].append(loss.item())
        done = i + 1
        if checkpoint is not None and (done % schedule.checkpoint_every == 0 or done == schedule.iterations):
            cache.save(checkpoint, _state(decoder, optimizer, scheduler, generator, done, history))
        if callback is not None:
            callback(done)
    decoder.eval()
    return history
