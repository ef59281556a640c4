"""Every size of every experiment, for the three profiles, in one place.

- ``smoke``: seconds; exercises every code path (the notebooks' nbval run).
- ``book``: the default; the scale the rendered book is built at on a 2-core CPU, where the papers' claims
  must already show.
- ``paper``: the papers' own scale (He et al. §3–§5, Gilbert et al. §4), for a GPU (``device="cuda"``).

A notebook asks for its chapter's sizes with :func:`sizes`; a researcher overrides any of them by keyword
(``sizes("random_cnn_random_dcn", "book", networks=10)``) or, for a whole run, through the ``sizes`` notebook
parameter (a JSON object, see :mod:`rdcn.core.runs`). Unknown chapters, profiles or size names, and values of the
wrong kind (a size that is an integer at the profile must be a positive integer, a number a finite positive number,
a tuple a tuple of those), are errors that list what is allowed.

:data:`DATA_NEEDS` says which parts of the data folder (``DATA_DIR``) each chapter reads at each profile: the one
documented layout is the ImageNet root as torchvision's ``ImageFolder`` users have it, ``DATA_DIR/train/<class>/…``
and ``DATA_DIR/val/<class>/…``, with torchvision's CIFAR-10 beside them (``DATA_DIR/cifar-10-batches-py``).
"""
from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from . import checks

PROFILES = ("smoke", "book", "paper")
DEVICES = ("cpu", "cuda")

_SIZES: dict[str, dict[str, dict[str, Any]]] = {
    # Chapter 1, He et al. §2: layer tables, Table 1, the four distributions, the cat teaser.
    "preliminaries": {
        "smoke": dict(table_size=227, draws=2_000, teaser_size=64, teaser_width=1.0),
        "book": dict(table_size=227, draws=200_000, teaser_size=227, teaser_width=1.0),
        "paper": dict(table_size=227, draws=1_000_000, teaser_size=227, teaser_width=1.0),
    },
    # Chapter 2, He et al. §3: random CNN, trained DCN.
    "random_cnn_trained_dcn": {
        # image_size: VGG16 on the classifier's images; photo_size: VGG16 on photographs; alexnet_size: AlexNet on
        # both (needs ≳ 64 px). weight_decay: the paper's 0.0004 on Caffe's 0–255 pixels is 0.0004/255² on our
        # [0, 1] pixels. classifier_*, test_images: the offline Fashion-MNIST classifiers (the paper profile uses
        # torchvision's ImageNet weights and ignores them): 2.6 epochs of batch 64 at the book profile, the test
        # accuracy on classifier_curve_images every classifier_eval_every iterations, the encoder kept after
        # classifier_snapshots iterations (¼ and 1 epoch; 0 and all of it always). replicates: random encoders and
        # DCN seeds of every comparison. sigma_iterations: the Gaussian σ sweep's DCN training. knob_widths: the
        # widths of the Conv2 random-vs-trained comparison along its scale (the paper profile runs only its own).
        "smoke": dict(image_size=32, photo_size=32, alexnet_size=64, width=0.125, classifier_iterations=4,
                      classifier_batch=8, classifier_lr=1e-3, classifier_snapshots=(1, 2), classifier_eval_every=2,
                      classifier_curve_images=64, test_images=64, iterations=4, sigma_iterations=8, batch=4,
                      lr=1e-3, weight_decay=4e-4 / 255**2, train_images=16, eval_images=8, curve_images=4,
                      eval_every=2, checkpoint_every=2, replicates=2, knob_widths=(0.03125, 0.0625, 0.125)),
        "book": dict(image_size=32, photo_size=48, alexnet_size=64, width=0.25, classifier_iterations=2_400,
                     classifier_batch=64, classifier_lr=1e-3, classifier_snapshots=(235, 938),
                     classifier_eval_every=200, classifier_curve_images=1_000, test_images=10_000, iterations=300,
                     sigma_iterations=600, batch=16, lr=1e-3, weight_decay=4e-4 / 255**2, train_images=2_000,
                     eval_images=256, curve_images=64, eval_every=20, checkpoint_every=100, replicates=3,
                     knob_widths=(0.0625, 0.125, 0.25)),
        "paper": dict(image_size=227, photo_size=227, alexnet_size=227, width=1.0, classifier_iterations=2_400,
                      classifier_batch=64, classifier_lr=1e-3, classifier_snapshots=(), classifier_eval_every=200,
                      classifier_curve_images=1_000, test_images=10_000, iterations=200_000,
                      sigma_iterations=200_000, batch=32, lr=1e-4, weight_decay=4e-4 / 255**2,
                      train_images=100_000, eval_images=5_000, curve_images=256, eval_every=500,
                      checkpoint_every=2_000, replicates=3, knob_widths=(1.0,)),
    },
    # Chapter 3, He et al. §4: random CNN, random DCN.
    "random_cnn_random_dcn": {
        # §4.2–4.3: `networks` random nets per setting (and for Shu et al.'s colours, on the held-out photographs)
        # on `images` test images (chapter 4's choice) of `image_size` px; §4.1: VGG16 at `depth_width` × its
        # channels on the held-out photographs at `depth_size` px, `depth_networks` nets per K, kind and upsampling
        # (the full VGG16s at 227 px are the chapter's largest cost); `shown` images in the closest-to-the-mean
        # figure; `speed_width` the width of the batched/looped timing.
        "smoke": dict(image_size=32, widths=(4, 8), networks=2, images=2, kernel_sizes=(1, 3), depth_size=64,
                      depth_width=0.125, depth_networks=2, shown=1, speed_width=8),
        "book": dict(image_size=64, widths=(4, 8, 16, 32, 64, 128, 256), networks=30, images=8,
                     kernel_sizes=(1, 3, 5, 7, 9, 11), depth_size=227, depth_width=1.0, depth_networks=5, shown=3,
                     speed_width=16),
        "paper": dict(image_size=227, widths=(4, 8, 16, 32, 64, 128, 256, 512, 1024, 2048), networks=30,
                      images=50, kernel_sizes=(1, 3, 5, 7, 9, 11, 13, 15), depth_size=227, depth_width=1.0,
                      depth_networks=30, shown=3, speed_width=16),
    },
    # Chapter 4, He et al. §5 and Appendix A: the theory of random convolution.
    # Networks and images as in §4.2 (the paper ran no experiment of its own for §5); mc_samples filters per Monte
    # Carlo estimate of Lemma A.2, mc_replicates independent estimates; two_layer_*: the cheap two-layer net of
    # Theorem 5.2, run wider and with more networks so that its rate's interval can be narrower than the claimed
    # range (±0.1 around −1/2); gram_size: the images of the average-pooling limit, whose recursion holds an (H·W)²
    # matrix per image; bound_*: Theorem 5.4 (and the dense route counts of its multi-layer form, (H·W)² too);
    # distribution_networks: per distribution at the widest N.
    "theory": {
        "smoke": dict(angles=5, mc_samples=2_000, mc_replicates=2, image_size=16, photos=2, widths=(4, 8, 16),
                      networks=2, two_layer_widths=(4, 8, 16), two_layer_networks=2, distribution_networks=1,
                      gram_size=12, bound_size=16, bound_photos=2, kernel_sizes=(1, 3, 5)),
        "book": dict(angles=13, mc_samples=200_000, mc_replicates=10, image_size=32, photos=3,
                     widths=(4, 16, 64, 256, 1024), networks=10,
                     two_layer_widths=(4, 16, 64, 256, 1024, 4096), two_layer_networks=30,
                     distribution_networks=2, gram_size=32, bound_size=64, bound_photos=8,
                     kernel_sizes=(1, 3, 5, 7, 9, 11, 13, 15)),
        "paper": dict(angles=25, mc_samples=2_000_000, mc_replicates=30, image_size=227, photos=50,
                      widths=(4, 8, 16, 32, 64, 128, 256, 512, 1024, 2048), networks=30,
                      two_layer_widths=(4, 16, 64, 256, 1024, 4096, 16384), two_layer_networks=30,
                      distribution_networks=30, gram_size=64, bound_size=64, bound_photos=50,
                      kernel_sizes=(1, 3, 5, 7, 9, 11, 13, 15)),
    },
    # Chapter 5, Gilbert et al.: random filters as model-based compressive sensing.
    # trials: 1-D codes (one filter bank each), each bank's δ_k, δ_2k from rip_supports sampled supports;
    # rip_codes_2d 2-D codes over rip_banks_2d banks; IHT on `images` held-out photos (of DATA_DIR at paper) at
    # image_size px for iht_iterations, iht_replicates random VGGs at the learned encoder's width and at each of
    # iht_widths; clf_*: the random- vs learned-filter classifiers (Fashion-MNIST, or CIFAR-10 in DATA_DIR),
    # clf_replicates seeds each. The paper gives no trial, support, bank, image, iteration or replicate count
    # and no classifier widths/kernel/epochs: those paper values are ours.
    "compressive_sensing": {
        "smoke": dict(trials=50, rip_supports=4, rip_codes_2d=4, rip_banks_2d=2, image_size=32, images=2,
                      iht_iterations=3, iht_replicates=2, iht_widths=(0.0625, 0.125, 0.25), clf_widths=(4, 8, 8),
                      clf_kernel=3, clf_train=300, clf_test=200, clf_epochs=1, clf_batch=64, clf_lr=1e-3,
                      clf_replicates=2),
        "book": dict(trials=1000, rip_supports=20, rip_codes_2d=300, rip_banks_2d=10, image_size=64, images=3,
                     iht_iterations=30, iht_replicates=3, iht_widths=(0.25, 0.5, 1.0), clf_widths=(16, 32, 64),
                     clf_kernel=3, clf_train=12_000, clf_test=5_000, clf_epochs=2, clf_batch=128, clf_lr=1e-3,
                     clf_replicates=3),
        "paper": dict(trials=10_000, rip_supports=100, rip_codes_2d=1000, rip_banks_2d=10, image_size=224,
                      images=100, iht_iterations=50, iht_replicates=3, iht_widths=(0.25, 0.5, 1.0),
                      clf_widths=(64, 128, 256), clf_kernel=5, clf_train=50_000, clf_test=10_000, clf_epochs=30,
                      clf_batch=128, clf_lr=1e-3, clf_replicates=3),
    },
}


#: Per chapter and profile: (the parts of DATA_DIR the chapter reads, whether DATA_DIR is required). Parts are
#: ``train`` / ``val`` (ImageNet's splits, class sub-folders of images) and ``cifar10`` (``cifar-10-batches-py``).
#: Without a required DATA_DIR, chapters read the embedded photographs and Fashion-MNIST.
DATA_NEEDS: dict[str, dict[str, tuple[tuple[str, ...], bool]]] = {
    "preliminaries": {p: ((), False) for p in PROFILES},
    "random_cnn_trained_dcn": {"smoke": ((), False), "book": ((), False), "paper": (("train", "val"), True)},
    "random_cnn_random_dcn": {"smoke": (("val",), False), "book": (("val",), False), "paper": (("val",), True)},
    "theory": {"smoke": (("val",), False), "book": (("val",), False), "paper": (("val",), True)},
    "compressive_sensing": {"smoke": (("val", "cifar10"), False), "book": (("val", "cifar10"), False),
                            "paper": (("val", "cifar10"), True)},
}


class Sizes(Mapping):
    """The sizes of one chapter at one profile: a read-only mapping that also reads as attributes."""

    def __init__(self, chapter: str, profile: str, values: dict[str, Any]):
        self._chapter, self._profile, self._values = chapter, profile, dict(values)

    @property
    def chapter(self) -> str:
        """The chapter these sizes are of."""
        return self._chapter

    @property
    def profile(self) -> str:
        """The profile these sizes are of (with any overrides applied)."""
        return self._profile

    def __getitem__(self, name: str) -> Any:
        return self._values[name]

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):
            raise AttributeError(name)
        try:
            return self._values[name]
        except KeyError:
            raise AttributeError(
                f"chapter {self._chapter!r} has no size {name!r}; its sizes are {sorted(self._values)}"
            ) from None

    def __iter__(self) -> Iterator[str]:
        return iter(self._values)

    def __len__(self) -> int:
        return len(self._values)

    def __repr__(self) -> str:
        return f"Sizes({self._chapter!r}, {self._profile!r}, {self._values})"


def chapters() -> tuple[str, ...]:
    """The chapters that have sizes (their names are also the names of their results files)."""
    return tuple(_SIZES)


def check_chapter(chapter: str) -> str:
    """Return ``chapter`` if it is one of :func:`chapters`, else raise a ValueError listing them."""
    return checks.choice("chapter", chapter, chapters())


def check_profile(profile: str) -> str:
    """Return ``profile`` if it is one of :data:`PROFILES`, else raise a ValueError listing them."""
    return checks.choice("profile", profile, PROFILES)


def check_device(device: str) -> str:
    """Return ``device`` if it is usable here: ``cpu``, or ``cuda`` where torch sees a GPU."""
    checks.choice("device", device, DEVICES)
    if device == "cuda":
        import torch

        if not torch.cuda.is_available():
            raise RuntimeError("device='cuda' was asked for but torch sees no GPU on this machine; use device='cpu'")
    return device


def data_needs(chapter: str, profile: str) -> tuple[tuple[str, ...], bool]:
    """(parts of DATA_DIR read, whether DATA_DIR is required) for ``chapter`` at ``profile`` (:data:`DATA_NEEDS`)."""
    return DATA_NEEDS[check_chapter(chapter)][check_profile(profile)]


def _check_like(chapter: str, name: str, value: Any, default: Any) -> None:
    what = f"size {name!r} of chapter {chapter!r}"
    if isinstance(default, tuple):
        if not isinstance(value, tuple):
            raise ValueError(f"{what} must be a tuple (a JSON list), got {value!r}")
        kinds = {type(v) for v in default} or {int, float}
        for item in value:
            _check_like(chapter, name, item, 1 if kinds == {int} else 1.0)
    elif isinstance(default, int):
        checks.positive_int(what, value)
    else:
        checks.positive_number(what, value)


def from_json(chapter: str, overrides: dict[str, Any]) -> dict[str, Any]:
    """Size overrides read from JSON, with lists turned into the tuples the profiles use."""
    check_chapter(chapter)
    if not isinstance(overrides, dict):
        raise ValueError(f"the size overrides of chapter {chapter!r} must be a JSON object, got {overrides!r}")
    return {k: tuple(v) if isinstance(v, list) else v for k, v in overrides.items()}


def sizes(chapter: str, profile: str = "book", **overrides: Any) -> Sizes:
    """Sizes of ``chapter`` at ``profile``, with ``overrides`` replacing named sizes.

    Raises ValueError for an unknown chapter, profile or size name (listing the allowed ones) and for a value of
    the wrong kind (see the module's note).
    """
    check_chapter(chapter)
    check_profile(profile)
    values = dict(_SIZES[chapter][profile])
    unknown = sorted(set(overrides) - set(values))
    if unknown:
        raise ValueError(f"unknown size(s) {unknown} for chapter {chapter!r}; allowed: {sorted(values)}")
    for name, value in overrides.items():
        _check_like(chapter, name, value, values[name])
    values.update(overrides)
    return Sizes(chapter, profile, values)
