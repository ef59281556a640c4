"""Random kernel size (He et al. §4.3): rrVGG Conv1_1-DeConv1_1 (one conv of 64 channels, one deconv) with a k×k
kernel, the original and the variant; the paper expects the quality to decay as k grows (Theorem 5.4 bounds the
loss by the image's dissimilarity within a kernel's window).

Each variant and k draws its networks from ``derive_many(seed, networks, "kernel", variant, k)``.
:func:`run` runs and records the sweeps; :class:`KernelStudy` gives the claim's measurements and He et al.'s
§4.3 figure (:meth:`~KernelStudy.figure`).
"""
from __future__ import annotations

from dataclasses import dataclass

import torch

from ..core import figures
from . import random_reconstruction as rr


@dataclass
class KernelStudy:
    """The §4.3 sweeps, ``sweeps[variant]`` over the kernel sizes."""

    kernel_sizes: list[int]
    sweeps: dict

    def falls_with_kernel(self) -> dict:
        """The measurements of claim ``ssim_falls_with_kernel`` (the original network, the paper's)."""
        return dict(k=self.kernel_sizes, ssim=self.sweeps["original"].per_network(),
                    variant_ssim=self.sweeps["variant"].per_network())

    def numbers(self) -> dict:
        """Everything measured, for the chapter's results."""
        return {v: dict(k=self.kernel_sizes, ssim=s.ssim, r=s.r, seeds=s.seeds) for v, s in self.sweeps.items()}

    def values(self) -> dict:
        """The numbers the prose quotes."""
        (orig, _), (var, _) = self.sweeps["original"].summary(), self.sweeps["variant"].summary()
        return {"kernel-first": self.kernel_sizes[0], "kernel-last": self.kernel_sizes[-1],
                "kernel-original-first": orig[0], "kernel-original-last": orig[-1],
                "kernel-variant-first": var[0], "kernel-variant-last": var[-1]}

    def figure(self):
        """He et al. §4.3: mean ± std over networks of the per-network mean SSIM and r against k, (a) the original
        network, (b) the variant."""
        import matplotlib.pyplot as plt

        fig, axes = plt.subplots(1, 2, figsize=(10, 3.6), sharey=True)
        for ax, (letter, name) in zip(axes, (("a", "original"), ("b", "variant"))):
            result = self.sweeps[name]
            figures.mean_std_curves(self.kernel_sizes, {"SSIM": result.summary("ssim"),
                                                        "Pearson r": result.summary("r")},
                                    "kernel size k", "quality", ax=ax, title=f"({letter}) {name}")
            ax.set_xticks(self.kernel_sizes)
        return fig


def run(ch, images: torch.Tensor) -> KernelStudy:
    """The §4.3 sweeps of chapter session ``ch`` (sizes ``kernel_sizes``, ``networks``) on ``images``, recorded
    under ``kernel``."""
    nets = rr.kernel_nets(ch.S.kernel_sizes)
    kernel_sizes = list(nets)
    sweeps = {v: rr.sweep(nets, images, rr.setting_seeds(ch.seed, ch.S.networks, kernel_sizes, "kernel", v),
                          ch.device, **rr.variant_config(v)) for v in rr.VARIANTS}
    study = KernelStudy(kernel_sizes, sweeps)
    ch.record("kernel", study.numbers())
    return study
