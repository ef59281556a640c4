"""The `paper` rehearsal's stand-ins for what a researcher brings to the paper profile, generated offline.

``python tests/rehearsal.py FOLDER`` writes, under FOLDER:

- ``data/train/<class>/*.png`` and ``data/val/<class>/*.png`` — an ImageNet-layout root (the one documented
  ``DATA_DIR`` layout) of seeded crops of the embedded photographs, one class per photograph (a JPEG among them);
- ``data/cifar-10-batches-py/`` — a tiny CIFAR-10 in torchvision's python format (seeded crops again);
- ``torch_home/hub/checkpoints/`` — VGG16 and AlexNet state dicts of the right shapes under torchvision's file names
  (random values: the rehearsal checks that every paper-only branch runs, not what ImageNet weights give).

``make rehearsal`` then runs the README's paper command on them with the size overrides of
``tests/rehearsal_sizes.json``; torchvision's published hashes cannot match random weights, so the rehearsal sets
``RDCN_UNVERIFIED_WEIGHTS=1`` and the chapters record that their weights were not verified.
"""
from __future__ import annotations

import pickle
import sys
from pathlib import Path

import numpy as np
import torch
from PIL import Image

from rdcn.core import data

CLASSES = ("astronaut", "coffee", "rocket")
PER_CLASS = {"train": 12, "val": 6}
SIZE = 96


def imagenet_folder(root: Path) -> None:
    for split, n in PER_CLASS.items():
        for c, name in enumerate(CLASSES):
            folder = root / split / f"n{c:08d}"
            folder.mkdir(parents=True, exist_ok=True)
            crops = data.RandomCrops([data.photo(name)], SIZE, n, seed=c + (0 if split == "train" else 100))
            for i in range(n):
                array = (crops[i].permute(1, 2, 0).numpy() * 255).round().astype(np.uint8)
                suffix = ".JPEG" if i == 0 else ".png"  # ImageNet's own files are JPEGs
                Image.fromarray(array).save(folder / f"{name}_{i}{suffix}")


def cifar10_folder(root: Path, per_batch: int = 40) -> None:
    folder = root / data.CIFAR_FOLDER
    folder.mkdir(parents=True, exist_ok=True)
    photos = [data.photo(n) for n in data.photo_names("all")]
    for b, name in enumerate(data.CIFAR_FILES[:6]):
        crops = data.RandomCrops(photos, 32, per_batch, seed=1000 + b)
        images = np.stack([(crops[i].numpy() * 255).round().astype(np.uint8).reshape(-1) for i in range(per_batch)])
        labels = [i % 10 for i in range(per_batch)]
        with open(folder / name, "wb") as handle:
            pickle.dump({"batch_label": name, "labels": labels, "data": images,
                         "filenames": [f"{i}.png" for i in range(per_batch)]}, handle, protocol=2)
    with open(folder / "batches.meta", "wb") as handle:
        pickle.dump({"label_names": [f"class{i}" for i in range(10)], "num_vis": 3072}, handle, protocol=2)


def hub_weights(torch_home: Path) -> None:
    import torchvision.models as tvm

    checkpoints = torch_home / "hub" / "checkpoints"
    checkpoints.mkdir(parents=True, exist_ok=True)
    generator = torch.Generator().manual_seed(0)
    for make, weights in ((tvm.vgg16, tvm.VGG16_Weights.IMAGENET1K_V1),
                          (tvm.alexnet, tvm.AlexNet_Weights.IMAGENET1K_V1)):
        with torch.device("meta"):
            shapes = {k: v.shape for k, v in make().state_dict().items()}
        state = {k: torch.randn(shape, generator=generator) * 0.01 for k, shape in shapes.items()
                 if k.startswith("features.")}  # the classifier head is never read (and is 400 MB for VGG16)
        torch.save(state, checkpoints / Path(weights.url).name)


def main(folder: str) -> None:
    root = Path(folder)
    imagenet_folder(root / "data")
    cifar10_folder(root / "data")
    hub_weights(root / "torch_home")
    print(f"rehearsal data in {root}: data/ (ImageNet layout, CIFAR-10) and torch_home/ (hub weights)")


if __name__ == "__main__":
    main(sys.argv[1])
