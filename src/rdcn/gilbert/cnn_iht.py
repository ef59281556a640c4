"""A VGG encoder read as model-based compressive sensing: its linear decoder and IHT reconstruction from poolK
(Gilbert et al. 2017, §5 and Table 3).

The encoder's layers up to ``poolK`` define a linear decoder Φ from a *code* — the map entering poolK, one
non-zero per pooling window (model sparsity) — back to image space:

- Φ (:meth:`LinearCNN.synthesis`): from the top down, each conv replaced by its transpose (``conv_transpose2d``
  with the same filters, no bias), each lower pooling by an unpooling that puts each value at a position in its
  window and zeros elsewhere; no activations (by their Prop. 1 a ReLU acting on filter pairs (w, −w) is linear).
- Φᵀ (:meth:`LinearCNN.analysis`), its exact adjoint: the convs (no bias, no activation), each lower pooling a
  read-out at those positions.
- 𝕄 (:meth:`LinearCNN.project`): one entry per window of poolK, at those positions. The entries keep their sign:
  the codes of Gilbert et al.'s model are signed (their ReLU acts on filter pairs (w, −w), Prop. 1), and a random
  VGG has no such pairs, so a non-negative code represents its input poorly.

The positions are either the encoder's own pooling switches on the image (``"known"``: 𝕄_known, from a forward
pass with its biases and ReLUs) or the top-left of every window (``"fixed"``: 𝕄_fixed, the zero-fill unpooling
of He et al. and Dosovitskiy & Brox). :func:`reconstruct` runs IHT
(:func:`rdcn.gilbert.compressive_sensing.iht`, with the normalised step since real filters have arbitrary scale)
and reports ‖x − Φz_t‖/‖x‖ in image space. The experiment of their Table 3 around it is
:mod:`rdcn.gilbert.vgg_reconstruction`.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from ..core import checks
from ..core.architectures import truncate
from . import compressive_sensing as cs

SUPPORTS = ("known", "fixed")


def _conv_padding(conv: nn.Conv2d) -> tuple[int, int]:
    if conv.padding == "same":
        return tuple(k // 2 for k in conv.kernel_size)
    return tuple(conv.padding)


def _check(module: nn.Module, name: str) -> None:
    if isinstance(module, nn.Conv2d):
        if any(s != 1 for s in module.stride):
            raise ValueError(f"{name}: the linear decoder needs stride-1 convolutions (VGG's), got stride "
                             f"{tuple(module.stride)}")
        if module.padding == "same" and any(k % 2 == 0 for k in module.kernel_size):
            raise ValueError(f"{name}: 'same' padding needs odd kernels for an exact transpose")
    elif isinstance(module, nn.MaxPool2d):
        if module.kernel_size != module.stride or module.padding not in (0, (0, 0)):
            raise ValueError(f"{name}: the sparsity model needs non-overlapping pooling windows (kernel = stride, "
                             f"no padding), got kernel {module.kernel_size}, stride {module.stride}")
    elif not isinstance(module, (nn.ReLU, nn.LeakyReLU)):
        raise ValueError(f"{name}: the linear decoder knows Conv2d, MaxPool2d and ReLU layers, got "
                         f"{type(module).__name__}")


class LinearCNN:
    """Φ, Φᵀ and 𝕄 of an encoder (from :func:`rdcn.core.architectures.build_encoder`) cut at ``layer`` (``poolK``), for
    the images ``x`` (B×C×H×W) whose switches it uses (``support="known"``) or at fixed positions (``"fixed"``)."""

    @torch.no_grad()
    def __init__(self, encoder: nn.Sequential, layer: str, x: torch.Tensor, support: str = "known"):
        checks.choice("support", support, SUPPORTS)
        if not layer.startswith("pool"):
            raise ValueError(f"layer must be a pooling layer 'poolK' (the code is the map it pools), got {layer!r}")
        part = truncate(encoder, layer)
        self.steps: list[tuple[str, torch.Tensor | None, dict]] = []  # (kind, conv weight, parameters)
        h = x
        for name, module in part.named_children():
            _check(module, name)
            if isinstance(module, nn.Conv2d):
                self.steps.append(("conv", module.weight.detach(), dict(padding=_conv_padding(module))))
            elif isinstance(module, nn.MaxPool2d):
                kernel = cs.per_dimension(module.kernel_size, 2)
                size = tuple(h.shape[2:])
                if support == "known":
                    positions = F.max_pool2d(h, kernel, kernel, ceil_mode=module.ceil_mode, return_indices=True)[1]
                else:
                    if not module.ceil_mode and any(n % k for n, k in zip(size, kernel)):
                        raise ValueError(f"{name}: fixed positions need ceil-mode pooling or sizes divisible by the "
                                         f"window, got size {size}, window {kernel}")
                    positions = cs.fixed_positions(h.shape, kernel)
                self.steps.append(("pool", None, dict(kernel=kernel, size=size, positions=positions)))
            h = module(h)
        self.code_shape = self.steps[-1][2]["size"]
        self.image_size = tuple(x.shape[2:])

    def analysis(self, x: torch.Tensor) -> torch.Tensor:
        """Φᵀ x: image → code space (the map entering the top pooling), linear."""
        for kind, weight, p in self.steps[:-1]:
            x = F.conv2d(x, weight, padding=p["padding"]) if kind == "conv" else cs.gather(x, p["positions"])
        return x

    def synthesis(self, z: torch.Tensor) -> torch.Tensor:
        """Φ z: code → image, linear (transposed convs, unpoolings)."""
        for kind, weight, p in reversed(self.steps[:-1]):
            z = (F.conv_transpose2d(z, weight, padding=p["padding"]) if kind == "conv"
                 else cs.scatter(z, p["positions"], p["size"]))
        return z

    def project(self, b: torch.Tensor) -> torch.Tensor:
        """𝕄(b): one entry per window of the top pooling, at its positions (known or fixed), sign kept."""
        top = self.steps[-1][2]
        return cs.model_projection(b, top["kernel"], positions=top["positions"])


@torch.no_grad()
def reconstruct(encoder: nn.Sequential, layer: str, x: torch.Tensor, iterations: int,
                support: str = "known") -> tuple[torch.Tensor, torch.Tensor]:
    """IHT reconstruction of images ``x`` from the code of ``layer`` (``poolK``) of ``encoder``: ``iterations``
    steps of Gilbert et al.'s Algorithm 1 with Φ, Φᵀ, 𝕄 of :class:`LinearCNN` and the normalised step.
    Returns (Φz_T, errors): the reconstructions and ‖x − Φz_t‖/‖x‖ for t = 0 … T ((T + 1)×B)."""
    model = LinearCNN(encoder, layer, x, support)
    z, errors = cs.iht(x, model.synthesis, model.analysis, model.project, iterations, step="normalized")
    return model.synthesis(z), errors
