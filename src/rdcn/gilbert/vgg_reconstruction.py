"""Gilbert et al. §5, Table 3: images reconstructed by IHT from VGG16's pool(1)–pool(4), with learned and with
random filters, and the random filters' error along their width.

:func:`table3` runs :func:`rdcn.gilbert.cnn_iht.reconstruct` for every encoder (the learned one and several random
ones of its architecture), every *variant* — the code's positions at the encoder's own pooling switches
(``known``, 𝕄_known) or at the top-left of each window (``fixed``, 𝕄_fixed), and, where the learned encoder saw
gray images, ``colour``: 𝕄_known on the colour photographs — and every pooling layer, and keeps the relative
errors ‖x − Φz_t‖/‖x‖ along the iterations. :func:`width_sweep` repeats the ``known`` variant for random VGGs of
several widths beside the learned encoder (the scale knob of the random-vs-learned comparison).

Random encoders are VGG16 with He et al.'s Gaussian weights (σ = 0.015, zero biases; :func:`random_vgg`), one
seed per replicate from :func:`rdcn.core.seeds.derive_many`. The IHT error does not depend on the weights'
scale: the normalised step of :func:`rdcn.gilbert.compressive_sensing.iht` absorbs it.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import matplotlib.pyplot as plt
import numpy as np
import torch
from torch import nn

from ..core import architectures, checks, figures, random_weights, seeds
from . import cnn_iht

POOLS = ("pool1", "pool2", "pool3", "pool4")
#: Gilbert et al. Table 3 (quoted): relative error in image space from the pooling layers 1–4.
PAPER_TABLE_3 = {"learned": (0.423, 0.692, 0.326, 0.379), "random": (0.380, 0.438, 0.345, 0.357),
                 "random activations": (0.610, 0.864, 0.652, 0.436)}
#: The paper's threshold for "about as good": the random filters' error at most this factor times the learned's.
FACTOR = 1.2


def random_vgg(width: float, seed: int, device: str = "cpu") -> nn.Sequential:
    """VGG16's encoder at ``width`` with Gaussian weights (σ = 0.015, zero biases) from ``seed``, in eval mode."""
    layers = architectures.architecture("vgg16", width=checks.positive_number("width", width))
    encoder = random_weights.randomize_(architectures.build_encoder(layers), "gaussian", seed)
    return encoder.to(device).eval().requires_grad_(False)


def random_vggs(width: float, replicates: int, seed: int, device: str = "cpu") -> list[nn.Sequential]:
    """``replicates`` random VGG16 encoders at ``width`` (:func:`random_vgg`), their seeds derived from ``seed``."""
    return [random_vgg(width, s, device)
            for s in seeds.derive_many(seed, checks.positive_int("replicates", replicates), "random-vgg16", width)]


def variants(x: torch.Tensor, colour: torch.Tensor | None = None) -> dict[str, tuple[torch.Tensor, str]]:
    """The reconstructions' variants, name → (input, support): 𝕄_known and 𝕄_fixed on ``x`` (the photographs as
    the learned encoder saw its data) and, with ``colour`` (the colour photographs, where ``x`` is gray), 𝕄_known
    on those."""
    out = {support: (x, support) for support in cnn_iht.SUPPORTS}
    if colour is not None:
        out["colour"] = (colour, "known")
    return out


@dataclass(frozen=True)
class Table3:
    """The IHT errors of :func:`table3`: ``errors[encoder, variant, pool]`` is replicates × (T + 1) × images;
    ``images[encoder, variant, pool]`` the first replicate's reconstructions of the first images (on the CPU)."""

    iterations: int
    errors: dict[tuple[str, str, str], torch.Tensor]
    images: dict[tuple[str, str, str], torch.Tensor]

    @property
    def encoders(self) -> list[str]:
        return list(dict.fromkeys(key[0] for key in self.errors))

    @property
    def variants(self) -> list[str]:
        return list(dict.fromkeys(key[1] for key in self.errors))

    def final(self, encoder: str, variant: str, pool: str) -> float:
        """The error after the last iteration, mean over the replicates and images."""
        return float(self.errors[encoder, variant, pool][:, -1].mean())

    def one_step(self, encoder: str, variant: str, pool: str) -> float:
        """The error of the first iterate (the one-step reconstruction at its best scale), mean."""
        return float(self.errors[encoder, variant, pool][:, 1].mean())

    def final_errors(self, encoder: str, variant: str = "known") -> np.ndarray:
        """replicates × pools × images: the error after the last iteration."""
        return torch.stack([self.errors[encoder, variant, pool][:, -1] for pool in POOLS], 1).numpy()

    def _rows(self, error) -> list[dict]:
        return [{"encoder": f"{e}, {v}", **{p: f"{error(e, v, p):.3f}" for p in POOLS}}
                for v in self.variants for e in self.encoders]

    def rows(self) -> list[dict]:
        """Gilbert et al. Table 3 beside ours, laid out as the paper's: one row per encoder (and 𝕄), one column per
        pool (the mean over the replicates and images); the paper's rows last."""
        paper = [{"encoder": f"{name} (paper)", **dict(zip(POOLS, values))} for name, values in PAPER_TABLE_3.items()]
        return self._rows(self.final) + paper

    def one_step_rows(self) -> list[dict]:
        """The error of the first iterate, in the layout of :meth:`rows` (without the paper's rows)."""
        return self._rows(self.one_step)

    def record(self) -> dict:
        return {f"{e}/{v}/{p}": dict(final=self.final(e, v, p), one_step=self.one_step(e, v, p),
                                     per_replicate_and_image=self.errors[e, v, p][:, -1],
                                     curve=self.errors[e, v, p].mean((0, 2)))
                for (e, v, p) in self.errors}

    def ratios(self, variant: str = "known") -> list[float]:
        """Per pool, the random encoders' mean error over the learned encoder's."""
        return [self.final("random", variant, p) / self.final("learned", variant, p) for p in POOLS]

    def values(self) -> dict:
        """The numbers the chapter's prose quotes, by glue name."""
        def joined(ratios: list[float]) -> str:
            return ", ".join(f"{r:.2f}" for r in ratios)

        return {"iht_T": self.iterations, "iht_ratios": joined(self.ratios()),
                "colour_ratios": joined(self.ratios("colour")) if "colour" in self.variants else "not measured"}

    def images_figure(self, inputs: torch.Tensor, show: Callable[[torch.Tensor], torch.Tensor],
                      variant: str = "known"):
        """Each image kept in :attr:`images` and its reconstructions from every pool, one row per image and
        encoder; ``show`` maps the encoder's input form back to displayable images."""
        rows, labels = [], []
        for i in range(len(next(iter(self.images.values())))):
            for encoder in self.encoders:
                rows.append([show(inputs[i : i + 1].cpu())[0]] +
                            [show(self.images[encoder, variant, pool][i : i + 1])[0] for pool in POOLS])
                labels.append(f"{encoder} filters")
        return figures.image_grid(rows, titles=["input"] + [f"from {pool}" for pool in POOLS], row_labels=labels,
                                  size=1.7)

    def curves_figure(self):
        """The relative error against the IHT iterations per pool, mean ± std over replicates and images, one
        line per encoder and variant."""
        fig, axes = plt.subplots(1, len(POOLS), figsize=(14, 3.4), sharey=True)
        steps = np.arange(self.iterations + 1)
        for ax, pool in zip(axes, POOLS):
            series = {}
            for e in self.encoders:
                for v in self.variants:
                    errors = self.errors[e, v, pool].transpose(0, 1).flatten(1)
                    series[f"{e}, {v}"] = (errors.mean(1).numpy(), errors.std(1).numpy() if errors.shape[1] > 1
                                           else np.zeros(len(steps)))
            figures.mean_std_curves(steps, series, "IHT iteration", "relative error" if pool == POOLS[0] else "",
                                    ax=ax, title=pool)
            if pool != POOLS[0]:
                ax.get_legend().remove()
        fig.tight_layout()
        return fig


@torch.no_grad()
def table3(encoders: dict[str, list[nn.Sequential]], inputs: dict[str, tuple[torch.Tensor, str]],
           iterations: int, shown: int = 3) -> Table3:
    """IHT from every pool of every encoder (label → its replicates) for every variant of ``inputs``
    (:func:`variants`), ``iterations`` steps each; the reconstructions of the first ``shown`` images are kept."""
    checks.non_negative_int("iterations", iterations)
    checks.positive_int("shown", shown)
    errors, images = {}, {}
    for label, replicates in encoders.items():
        if not replicates:
            raise ValueError(f"encoder {label!r} has no replicate")
        for variant, (x, support) in inputs.items():
            for pool in POOLS:
                runs = [cnn_iht.reconstruct(encoder, pool, x, iterations, support) for encoder in replicates]
                errors[label, variant, pool] = torch.stack([err.cpu() for _, err in runs])
                images[label, variant, pool] = runs[0][0][:shown].cpu()
    return Table3(iterations, errors, images)


@dataclass(frozen=True)
class WidthSweep:
    """The ``known`` IHT errors of random VGGs along their width beside the learned encoder's:
    ``random[width]`` is replicates × pools × images, ``learned`` pools × images (after the last iteration)."""

    learned_width: float
    learned: np.ndarray
    random: dict[float, np.ndarray]

    @property
    def widths(self) -> list[float]:
        return sorted(self.random)

    def log_ratio(self, width: float) -> np.ndarray:
        """replicates × images: the mean over the pools of log(random error / learned error), the random VGGs at
        ``width``, the learned encoder at its own."""
        return np.log(self.random[width] / self.learned[None]).mean(1)

    def rows(self) -> list[dict]:
        """The mean error per pool of the random VGGs at each width, and the learned encoder's."""
        rows = [{"encoder": f"random, width {w:g}", **{p: f"{self.random[w][:, i].mean():.3f}"
                                                       for i, p in enumerate(POOLS)}} for w in self.widths]
        rows.append({"encoder": f"learned, width {self.learned_width:g}",
                     **{p: f"{self.learned[i].mean():.3f}" for i, p in enumerate(POOLS)}})
        return rows

    def values(self) -> dict:
        """The numbers the chapter's prose quotes, by glue name: per pool the random encoders' mean error at the
        widths in order (``sweep_poolK``), the widths, and the learned encoder's width and errors."""
        return {"sweep_widths": " / ".join(f"{w:g}" for w in self.widths), "width": f"{self.learned_width:g}",
                **{f"sweep_{p}": " / ".join(f"{self.random[w][:, i].mean():.3f}" for w in self.widths)
                   for i, p in enumerate(POOLS)},
                **{f"learned_{p}": float(self.learned[i].mean()) for i, p in enumerate(POOLS)}}

    def record(self) -> dict:
        return dict(learned_width=self.learned_width, learned=self.learned,
                    random={f"{w:g}": e for w, e in self.random.items()})


def width_sweep(widths, replicates: int, seed: int, x: torch.Tensor, iterations: int, learned: Table3,
                learned_width: float, device: str = "cpu") -> WidthSweep:
    """The ``known`` IHT errors of ``replicates`` random VGGs (:func:`random_vggs`) at each of ``widths`` and at
    the learned encoder's width (taken from ``learned``, the :func:`table3` of the learned encoder and random ones
    at its width, with the same seeds), on the images ``x``."""
    random = {learned_width: learned.final_errors("random")}
    for width in sorted(set(widths) - {learned_width}):
        table = table3({"random": random_vggs(width, replicates, seed, device)}, {"known": (x, "known")}, iterations)
        random[width] = table.final_errors("random")
    return WidthSweep(learned_width, learned.final_errors("learned")[0], random)
