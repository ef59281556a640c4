"""torchvision's ImageNet weights of VGG16 and AlexNet: the "pre-trained CNN" of He et al. §3 at the paper profile,
read from the local torch hub cache only, verified, and loaded without running any code from the file.

- **One table** (:data:`WEIGHTS`): the torchvision weights enum of each architecture (``IMAGENET1K_V1``). Nothing is
  downloaded: the file must already be in ``$TORCH_HOME/hub/checkpoints`` (torch hub's cache), under torchvision's
  own file name.
- **Verified**: the file's SHA-256 must begin with the prefix torchvision publishes in that name
  (``vgg16-397923af.pth``), as ``torch.hub``'s ``check_hash`` does; the file is hashed *before* it is unpickled, so a
  file that is not torchvision's is refused without being read. Only where ``RDCN_UNVERIFIED_WEIGHTS=1`` (set by the
  paper rehearsal, whose stand-in weights are random) is a mismatch a warning instead, and :func:`load` reports the
  weights as unverified (the chapter records it).
- **Loaded as plain data**: ``torch.load(..., weights_only=True)``, which refuses any pickled object other than
  tensors and containers: a planted pickle that would run code is an error naming the file.
"""
from __future__ import annotations

import functools
import hashlib
import os
import warnings
from pathlib import Path
from urllib.parse import urlparse

import torch

from ..core import checks

#: architecture → torchvision's weights enum (its IMAGENET1K_V1 member holds the URL, hash prefix and accuracy).
WEIGHTS = {"vgg16": "VGG16_Weights", "alexnet": "AlexNet_Weights"}
UNVERIFIED_VARIABLE = "RDCN_UNVERIFIED_WEIGHTS"


class UnverifiedWeightsWarning(UserWarning):
    """Weights whose hash does not match torchvision's were loaded because RDCN_UNVERIFIED_WEIGHTS=1."""


def weights(architecture: str):
    """torchvision's ``IMAGENET1K_V1`` weights entry of ``architecture``."""
    import torchvision.models as tvm

    return getattr(tvm, WEIGHTS[checks.choice("architecture", architecture, WEIGHTS)]).IMAGENET1K_V1


def path(architecture: str) -> Path:
    """Where torch hub keeps ``architecture``'s weights (``$TORCH_HOME/hub/checkpoints/<torchvision's name>``)."""
    return Path(torch.hub.get_dir()) / "checkpoints" / Path(urlparse(weights(architecture).url).path).name


def published_prefix(file: Path) -> str:
    """The SHA-256 prefix torchvision publishes in a weights file's name (``vgg16-397923af.pth`` → ``397923af``)."""
    match = torch.hub.HASH_REGEX.search(file.name)
    if match is None or not match.group(1):
        raise ValueError(f"{file.name} carries no hash prefix in its name")
    return match.group(1)


@functools.lru_cache(maxsize=8)
def _sha256(file: Path, size: int, modified: float) -> str:
    digest = hashlib.sha256()
    with open(file, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def sha256(file: Path) -> str:
    """The file's SHA-256 (remembered per size and modification time within a process)."""
    stat = file.stat()
    return _sha256(file, stat.st_size, stat.st_mtime)


def verify(architecture: str) -> tuple[Path, str, bool]:
    """(the weights file, its SHA-256, whether it matches torchvision's published prefix). A missing file is a
    FileNotFoundError saying how to fetch it; a mismatch a ValueError naming the file, or — with
    ``RDCN_UNVERIFIED_WEIGHTS=1`` only — a warning, with ``False`` returned."""
    file = path(architecture)
    if not file.is_file():
        raise FileNotFoundError(
            f"torchvision's ImageNet weights for {architecture} are not on this machine (looked for {file}). On a "
            f"machine with network access run: python -c \"import torchvision.models as m; "
            f"m.{architecture}(weights='IMAGENET1K_V1')\" and copy the file there")
    digest, prefix = sha256(file), published_prefix(file)
    if digest.startswith(prefix):
        return file, digest, True
    message = (f"{file} is not torchvision's {architecture} ImageNet file: its SHA-256 begins {digest[:len(prefix)]}, "
               f"torchvision publishes {prefix}")
    if os.environ.get(UNVERIFIED_VARIABLE) != "1":
        raise ValueError(f"{message}; refusing to load it (delete it and fetch it again)")
    warnings.warn(f"{message}; loading it anyway because {UNVERIFIED_VARIABLE}=1", UnverifiedWeightsWarning,
                  stacklevel=2)
    return file, digest, False


def load(architecture: str) -> tuple[dict[str, torch.Tensor], dict]:
    """``architecture``'s ImageNet state dict (verified first, see the module's note) and its identity:
    ``file``, ``sha256``, ``verified`` and torchvision's top-1 accuracy ``test_accuracy``."""
    file, digest, verified = verify(architecture)
    try:
        state = torch.load(file, map_location="cpu", weights_only=True)
    except Exception as error:  # pickle and torch raise several types for a file that is not plain weights
        raise ValueError(f"cannot load {file} as plain weights (torch.load with weights_only=True refused it: "
                         f"{error}); delete it and fetch it again") from None
    if not isinstance(state, dict) or not all(isinstance(v, torch.Tensor) for v in state.values()):
        raise ValueError(f"{file} does not hold a state dict of tensors")
    accuracy = weights(architecture).meta["_metrics"]["ImageNet-1K"]["acc@1"] / 100
    return state, dict(file=file.name, sha256=digest, verified=verified, test_accuracy=accuracy)


def identity(architecture: str) -> dict:
    """What identifies the weights a model is built on (for cache keys): torchvision's file name and published hash
    prefix — the same whether or not the file is here yet (a present file must match it, :func:`verify`, so a plan
    made before fetching the weights names the same models) — or, for an unverified file (``RDCN_UNVERIFIED_WEIGHTS``),
    its own SHA-256."""
    file = path(architecture)
    official = dict(file=file.name, published=published_prefix(file))
    if not file.is_file():
        return official
    _, digest, verified = verify(architecture)
    return official if verified else dict(file=file.name, sha256=digest, verified=False)
