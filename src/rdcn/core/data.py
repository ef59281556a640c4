"""Images: scikit-image's bundled colour photographs (no download), or any folder of images.

The embedded set (sources and licences in ``data/README.md``) is split into training and held-out images *by
photograph*, so nothing of a held-out photograph is ever seen in training. Experiments read seeded random crops
(:class:`RandomCrops`) or whole photographs (:func:`photo`). A folder of the user's images (for instance ImageNet's
validation set) is read with torchvision's ``ImageFolder`` (class sub-folders) or, for a flat folder, file by file;
a missing or empty folder, or an unreadable file (named), is an error before any experiment starts.

The one documented layout of a data folder (``DATA_DIR``) is the ImageNet root: ``train/<class>/<image>`` and
``val/<class>/<image>`` as torchvision's ``ImageFolder`` reads them, with torchvision's CIFAR-10 beside them in
``cifar-10-batches-py/``. :func:`check_layout` checks the parts a chapter reads (:data:`rdcn.core.profiles.DATA_NEEDS`)
before anything runs; :func:`test_images` reads ``DATA_DIR/val``.
"""
from __future__ import annotations

import functools
import io
import os
import pickle
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch.utils.data import Dataset

from . import checks

#: name -> scikit-image loader. All are RGB uint8 photographs that ship inside scikit-image.
PHOTOS = {
    "chelsea": "chelsea",
    "coffee": "coffee",
    "rocket": "rocket",
    "astronaut": "astronaut",
    "motorcycle": "stereo_motorcycle",
    "hubble_deep_field": "hubble_deep_field",
    "retina": "retina",
    "immunohistochemistry": "immunohistochemistry",
}
#: The held-out photographs (the cat first: the paper's running example). All others are training photographs.
HELD_OUT = ("chelsea", "coffee", "rocket")
SPLITS = ("train", "held_out", "all")
IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".ppm", ".bmp", ".pgm", ".tif", ".tiff", ".webp", ".jpe")


def photo_names(split: str = "all") -> tuple[str, ...]:
    """The embedded photographs of ``split`` (one of :data:`SPLITS`)."""
    if split not in SPLITS:
        raise ValueError(f"split must be one of {list(SPLITS)}, got {split!r}")
    if split == "held_out":
        return HELD_OUT
    if split == "train":
        return tuple(n for n in PHOTOS if n not in HELD_OUT)
    return tuple(PHOTOS)


@functools.cache
def _photo_array(name: str) -> np.ndarray:
    import skimage.data

    if name not in PHOTOS:
        raise ValueError(f"photo must be one of {list(PHOTOS)}, got {name!r}")
    image = getattr(skimage.data, PHOTOS[name])()
    image = image[0] if isinstance(image, tuple) else image  # stereo_motorcycle: (left, right, disparity)
    return np.ascontiguousarray(image[..., :3])


def to_tensor(image: np.ndarray) -> torch.Tensor:
    """uint8 H×W×3 (or H×W) array → float32 3×H×W tensor in [0, 1]."""
    array = np.asarray(image)
    if array.ndim == 2:
        array = np.repeat(array[..., None], 3, axis=2)
    return torch.from_numpy(np.array(array[..., :3])).permute(2, 0, 1).float() / 255.0


def resize(image: torch.Tensor, size: int) -> torch.Tensor:
    """Resize a (…, C, H, W) tensor to ``size``×``size`` (antialiased bilinear), clipped to [0, 1]."""
    batched = image if image.ndim == 4 else image[None]
    out = F.interpolate(batched, size=(size, size), mode="bilinear", antialias=True, align_corners=False)
    out = out.clamp(0, 1)
    return out if image.ndim == 4 else out[0]


def center_square(image: torch.Tensor) -> torch.Tensor:
    """The largest centred square of a (…, C, H, W) tensor."""
    h, w = image.shape[-2:]
    s = min(h, w)
    top, left = (h - s) // 2, (w - s) // 2
    return image[..., top : top + s, left : left + s]


def photo(name: str, size: int | None = None) -> torch.Tensor:
    """Embedded photograph ``name`` as a 3×H×W tensor in [0, 1]; with ``size``, its centre square resized."""
    image = to_tensor(_photo_array(name))
    return image if size is None else resize(center_square(image), size)


def photos(names, size: int) -> torch.Tensor:
    """The centre squares of ``names`` resized to ``size``: an N×3×size×size batch."""
    return torch.stack([photo(n, size) for n in names])


class RandomCrops(Dataset):
    """``n`` seeded random square crops of ``images`` (a list of 3×H×W tensors), each resized to ``size``.

    Crop i depends only on (``seed``, i): its source image, side (``min_scale`` to 1 of the image's shorter side),
    position and a horizontal flip are drawn from its own generator, so any subset or order gives the same crops.
    """

    def __init__(self, images: list[torch.Tensor], size: int, n: int, seed: int = 0, min_scale: float = 0.3):
        if not images:
            raise ValueError("RandomCrops needs at least one image")
        for name, value in (("size", size), ("n", n)):
            if not isinstance(value, int) or value < 1:
                raise ValueError(f"{name} must be a positive integer, got {value!r}")
        if not 0 < min_scale <= 1:
            raise ValueError(f"min_scale must lie in (0, 1], got {min_scale!r}")
        self.images, self.size, self.n, self.seed, self.min_scale = list(images), size, n, seed, min_scale

    def __len__(self) -> int:
        return self.n

    def __getitem__(self, i: int) -> torch.Tensor:
        if not 0 <= i < self.n:
            raise IndexError(i)
        gen = torch.Generator().manual_seed(self.seed * 1_000_003 + i)
        image = self.images[int(torch.randint(len(self.images), (1,), generator=gen))]
        h, w = image.shape[-2:]
        short = min(h, w)
        scale = self.min_scale + (1 - self.min_scale) * float(torch.rand(1, generator=gen))
        side = max(1, int(round(short * scale)))
        top = int(torch.randint(h - side + 1, (1,), generator=gen))
        left = int(torch.randint(w - side + 1, (1,), generator=gen))
        crop = image[:, top : top + side, left : left + side]
        if float(torch.rand(1, generator=gen)) < 0.5:
            crop = crop.flip(-1)
        return resize(crop, self.size)

    def batch(self, indices) -> torch.Tensor:
        return torch.stack([self[int(i)] for i in indices])


def embedded_crops(split: str, size: int, n: int, seed: int = 0) -> RandomCrops:
    """Seeded random crops of the embedded photographs of ``split``."""
    return RandomCrops([photo(name) for name in photo_names(split)], size, n, seed)


#: The parts of the documented data-folder layout (see the module's note), and how the errors describe it.
LAYOUT = {"train": "train/<class>/<image> (ImageNet's training images)",
          "val": "val/<class>/<image> (ImageNet's validation images)",
          "cifar10": "cifar-10-batches-py/ (torchvision's CIFAR-10: data_batch_1…5, test_batch, batches.meta)"}
CIFAR_FOLDER = "cifar-10-batches-py"
CIFAR_FILES = ("data_batch_1", "data_batch_2", "data_batch_3", "data_batch_4", "data_batch_5", "test_batch",
               "batches.meta")


def _check_image_folder(folder: Path) -> None:
    if not folder.is_dir():
        raise ValueError(f"{folder} is not a folder")
    classes = sorted(p for p in folder.iterdir() if p.is_dir())
    if not classes:
        raise ValueError(f"{folder} has no class sub-folders")
    if not any(f.suffix.lower() in IMAGE_SUFFIXES for f in classes[0].iterdir()):
        raise ValueError(f"{classes[0]} holds no image file (looked for {', '.join(IMAGE_SUFFIXES)})")


def check_layout(data_dir: str | Path, needs: tuple[tuple[str, ...], bool], chapter: str, profile: str) -> bool:
    """Check that ``data_dir`` has the ``parts`` of the layout (see the module's note) that ``chapter`` reads at
    ``profile``; ``needs`` = (parts, required). Returns whether the chapter reads ``data_dir`` at all; an absent
    required folder, or a part missing or malformed, is an error naming it and describing the layout."""
    parts, required = needs
    layout = "; ".join(LAYOUT[p] for p in parts)
    if not data_dir:
        if required:
            raise ValueError(f"chapter {chapter!r} at profile {profile!r} reads {layout}: pass DATA_DIR=<folder> (the "
                             "ImageNet root, see README)")
        return False
    root = Path(data_dir).expanduser()
    if not root.is_dir():
        raise FileNotFoundError(f"data_dir {str(data_dir)!r} is not a folder")
    if not parts:
        print(f"note: chapter {chapter!r} does not read data_dir at profile {profile!r} (it uses its embedded data)")
        return False
    for part in parts:
        try:
            if part == "cifar10":
                missing = [f for f in CIFAR_FILES if not (root / CIFAR_FOLDER / f).is_file()]
                if missing:
                    raise ValueError(f"{root / CIFAR_FOLDER} lacks {missing}")
            else:
                _check_image_folder(root / part)
        except ValueError as error:
            raise ValueError(f"data_dir {str(data_dir)!r} does not have the layout chapter {chapter!r} reads at "
                             f"profile {profile!r} ({LAYOUT[part]}): {error}") from None
    return True


def decode(path: Path, size: int | None = None) -> torch.Tensor:
    """The image file ``path`` as a float32 3×H×W tensor in [0, 1] (with ``size``, its centre square resized).

    16-bit images are scaled from their own range (not saturated); a large image is reduced while decoding (a
    JPEG's DCT scaling, then PIL's box reduction of the centre square) before it becomes floats, so a 100-megapixel
    photograph costs megabytes, not gigabytes. Raises ValueError naming a file that cannot be decoded."""
    from PIL import Image

    try:
        with Image.open(path) as handle:
            if size is not None:
                side = min(handle.size)
                handle.draft("RGB", (handle.size[0] * 2 * size // side, handle.size[1] * 2 * size // side))
                w, h = handle.size
                side = min(w, h)
                image = handle.crop(((w - side) // 2, (h - side) // 2, (w - side) // 2 + side, (h - side) // 2 + side))
                if side >= 4 * size:
                    image = image.reduce(side // (2 * size))
            else:
                image = handle.copy()
        if image.mode.startswith("I;16") or image.mode == "I":
            array = np.asarray(image, dtype=np.float64) / 65535.0
            tensor = torch.from_numpy(np.clip(array, 0, 1)).float()[None].expand(3, -1, -1).contiguous()
        else:
            tensor = to_tensor(np.asarray(image.convert("RGB")))
    except Exception as error:  # PIL raises several types for a bad file
        raise ValueError(f"cannot read image file {str(path)!r}: {error}") from None
    return tensor if size is None else resize(center_square(tensor), size)


class ImageFiles(Dataset):
    """Image files of ``data_dir``, each read on demand by :func:`decode` (with ``size``, its centre square
    resized): with class sub-folders through torchvision's ``ImageFolder``, else every image file in it. With
    ``n``, a seeded random choice of n files. For folders too large to hold in memory (ImageNet).

    Raises FileNotFoundError for a missing folder and ValueError for a folder with no images (or fewer than
    ``n``); reading a file that cannot be decoded raises ValueError naming it.
    """

    def __init__(self, data_dir: str | Path, n: int | None = None, size: int | None = None, seed: int = 0):
        from torchvision.datasets import ImageFolder

        if n is not None:
            checks.positive_int("n", n)
        if size is not None:
            checks.positive_int("size", size)
        checks.seed(seed)
        root = Path(data_dir).expanduser()
        if not root.is_dir():
            raise FileNotFoundError(f"data_dir {str(data_dir)!r} is not a folder")
        if any(p.is_dir() for p in root.iterdir()):
            try:
                files = [Path(path) for path, _ in ImageFolder(str(root), allow_empty=True).samples]
            except (FileNotFoundError, RuntimeError) as error:
                raise ValueError(f"data_dir {str(data_dir)!r}: {error}") from None
        else:
            files = sorted(p for p in root.iterdir() if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES)
        if not files:
            raise ValueError(f"data_dir {str(data_dir)!r} holds no image files "
                             f"(looked for {', '.join(IMAGE_SUFFIXES)})")
        if n is not None:
            if n > len(files):
                raise ValueError(f"asked for {n} images but data_dir {str(data_dir)!r} holds only {len(files)}")
            order = torch.randperm(len(files), generator=torch.Generator().manual_seed(seed))[:n]
            files = [files[int(i)] for i in order]
        self.files, self.size = files, size

    def __len__(self) -> int:
        return len(self.files)

    def __getitem__(self, i: int) -> torch.Tensor:
        return decode(self.files[i], self.size)

    def batch(self, indices) -> torch.Tensor:
        return torch.stack([self[int(i)] for i in indices])


def folder_images(data_dir: str | Path, n: int | None = None, size: int | None = None,
                  seed: int = 0) -> list[torch.Tensor]:
    """The images of :class:`ImageFiles` ``(data_dir, n, size, seed)``, every one decoded now, so that a bad file
    is reported (by name) before any experiment starts."""
    files = ImageFiles(data_dir, n, size, seed)
    return [files[i] for i in range(len(files))]


def test_images(n: int, size: int, seed: int = 0, data_dir: str | Path = "", split: str = "all"
                ) -> tuple[torch.Tensor, str]:
    """A chapter's ``n`` test images at ``size``×``size`` and a description of them: with ``data_dir``, a seeded
    choice from its ``val/`` folder (:func:`folder_images`; the papers used ImageNet's validation set); otherwise
    the embedded photographs of ``split`` in order (the cat first), and seeded random crops of them
    (:func:`embedded_crops`) where more images are asked for than there are photographs."""
    checks.positive_int("n", n)
    checks.positive_int("size", size)
    if data_dir:
        folder = Path(data_dir).expanduser() / "val"
        return torch.stack(folder_images(folder, n, size, seed)), f"{n} images from {folder}"
    names = photo_names(split)
    if n <= len(names):
        return photos(names[:n], size), f"the embedded photographs {', '.join(names[:n])}"
    return embedded_crops(split, size, n, seed).batch(range(n)), f"{n} seeded crops of the embedded photographs"


#: Where Debian's ``dataset-fashion-mnist`` package puts the four files (the set-up installs it where apt exists).
FASHION_MNIST_DEBIAN = Path("/usr/share/datasets/fashion-mnist")
FASHION_MNIST_CLASSES = ("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag",
                         "Ankle boot")


def fashion_mnist(train: bool, root: str | Path | None = None):
    """Fashion-MNIST through ``torchvision.datasets.FashionMNIST``: 28×28 uint8 images and labels.

    The files come from Debian's ``dataset-fashion-mnist`` package, decompressed once into ``root`` (by default
    ``data/cache``; each process writes its own temporary file and renames it, so concurrent first uses are safe).
    Where that package is absent this is an error naming the command that installs it (nothing is downloaded).
    ``.data`` is an N×28×28 uint8 tensor, ``.targets`` the labels.
    """
    import gzip
    import shutil

    from torchvision.datasets import FashionMNIST

    from . import paths

    if not FASHION_MNIST_DEBIAN.is_dir():
        raise FileNotFoundError(f"Fashion-MNIST is not on this machine ({FASHION_MNIST_DEBIAN} is missing): install "
                                "Debian's package with `sudo apt-get install dataset-fashion-mnist` (make install "
                                "does so as root)")
    root = Path(root) if root is not None else paths.cache_dir()
    raw = root / "FashionMNIST" / "raw"
    raw.mkdir(parents=True, exist_ok=True)
    for source in FASHION_MNIST_DEBIAN.glob("*-ubyte.gz"):
        target = raw / source.stem
        if not target.is_file():
            part = target.with_name(f".{target.name}.{os.getpid()}.part")
            with gzip.open(source) as fin, open(part, "wb") as fout:
                shutil.copyfileobj(fin, fout)
            os.replace(part, target)
    return FashionMNIST(str(root), train=train, download=False)


class _CifarUnpickler(pickle.Unpickler):
    """Unpickles CIFAR-10's python batches and nothing else: dicts, lists, bytes and numpy arrays, no other global
    (so a crafted file cannot run code)."""

    ALLOWED = {("numpy.core.multiarray", "_reconstruct"), ("numpy._core.multiarray", "_reconstruct"),
               ("numpy", "ndarray"), ("numpy", "dtype"), ("_codecs", "encode")}

    def find_class(self, module: str, name: str):
        if (module, name) in self.ALLOWED:
            return super().find_class(module, name)
        raise pickle.UnpicklingError(f"CIFAR-10 batches hold no {module}.{name}: refusing to load it")


def _cifar_batch(path: Path) -> dict:
    try:
        batch = _CifarUnpickler(io.BytesIO(path.read_bytes()), encoding="latin1").load()
        if not isinstance(batch, dict):
            raise ValueError(f"expected a dict, found {type(batch).__name__}")
        return batch
    except Exception as error:
        raise ValueError(f"cannot read the CIFAR-10 file {path}: {error}") from None


def cifar10(root: str | Path, train: bool) -> tuple[torch.Tensor, torch.Tensor]:
    """CIFAR-10 (Krizhevsky 2009) from torchvision's folder ``root/cifar-10-batches-py``: the training split (5
    batches) or the test split, as N×3×32×32 uint8 images and int64 labels. Read with an unpickler that admits only
    the types these files hold (:class:`_CifarUnpickler`): a file that holds anything else is refused, naming it."""
    folder = Path(root).expanduser() / CIFAR_FOLDER
    names = CIFAR_FILES[:5] if train else ("test_batch",)
    images, labels = [], []
    for name in names:
        batch = _cifar_batch(folder / name)
        data = np.asarray(batch["data"], dtype=np.uint8)
        if data.ndim != 2 or data.shape[1] != 3 * 32 * 32 or len(batch["labels"]) != len(data):
            raise ValueError(f"the CIFAR-10 file {folder / name} does not hold N×3072 images with N labels")
        images.append(torch.from_numpy(data.reshape(-1, 3, 32, 32).copy()))
        labels.append(torch.as_tensor(batch["labels"], dtype=torch.long))
    return torch.cat(images), torch.cat(labels)
