import pytest
import torch
from PIL import Image

from rdcn.core import data


def test_every_embedded_photo_loads_as_rgb_in_unit_range():
    for name in data.photo_names("all"):
        image = data.photo(name)
        assert image.ndim == 3 and image.shape[0] == 3 and image.min() >= 0 and image.max() <= 1
    assert data.photo("chelsea", 40).shape == (3, 40, 40)


def test_split_is_disjoint_by_photograph_and_covers_all():
    train, held = set(data.photo_names("train")), set(data.photo_names("held_out"))
    assert not train & held
    assert train | held == set(data.photo_names("all"))
    assert data.photo_names("held_out")[0] == "chelsea"  # the cat, the paper's running example


def test_random_crops_come_from_their_split_and_are_reproducible():
    crops = data.embedded_crops("held_out", 24, 6, seed=3)
    again = data.embedded_crops("held_out", 24, 6, seed=3)
    assert torch.equal(crops.batch(range(6)), again.batch(range(6)))
    assert crops[5].shape == (3, 24, 24)
    assert not torch.equal(crops[0], data.embedded_crops("held_out", 24, 6, seed=4)[0])
    assert torch.equal(crops[4], crops.batch([4])[0])  # a crop depends on its index only


def test_crops_of_one_split_never_come_from_the_other():
    train = data.embedded_crops("train", 16, 1, 0)
    held_images = {id(img) for img in data.embedded_crops("held_out", 16, 1, 0).images}
    assert all(id(img) not in held_images for img in train.images)
    assert len(train.images) == len(data.photo_names("train"))


def _write_images(folder, n, size=20):
    folder.mkdir(parents=True, exist_ok=True)
    for i in range(n):
        Image.new("RGB", (size + i, size), (10 * i, 0, 0)).save(folder / f"img{i}.png")


def test_flat_folder_and_class_folders(tmp_path):
    _write_images(tmp_path / "flat", 3)
    images = data.folder_images(tmp_path / "flat", size=16)
    assert len(images) == 3 and images[0].shape == (3, 16, 16)
    _write_images(tmp_path / "classes" / "cat", 2)
    _write_images(tmp_path / "classes" / "dog", 2)
    chosen = data.folder_images(tmp_path / "classes", n=3, seed=1)
    assert len(chosen) == 3
    assert all(torch.equal(a, b) for a, b in zip(chosen, data.folder_images(tmp_path / "classes", n=3, seed=1)))


@pytest.mark.parametrize("setup, error, match", [
    (lambda p: p / "missing", FileNotFoundError, r"data_dir '.*missing' is not a folder"),
    (lambda p: (p / "empty").mkdir() or p / "empty", ValueError, r"data_dir '.*empty' holds no image files"),
    (lambda p: (_write_images(p / "two", 2), p / "two")[1], ValueError, r"asked for 5 images but .* holds only 2"),
])
def test_bad_folders_are_clear_errors(tmp_path, setup, error, match):
    folder = setup(tmp_path)
    with pytest.raises(error, match=match):
        data.folder_images(folder, n=5 if "two" in str(folder) else None)


def test_image_files_read_lazily_and_name_a_bad_file_when_read(tmp_path):
    _write_images(tmp_path / "imgs", 2)
    (tmp_path / "imgs" / "broken.png").write_bytes(b"not a png")
    files = data.ImageFiles(tmp_path / "imgs", size=8)
    assert len(files) == 3 and files.batch([1, 2]).shape == (2, 3, 8, 8)
    with pytest.raises(ValueError, match=r"cannot read image file '.*broken.png'"):
        files[0]


def test_unreadable_file_is_named(tmp_path):
    _write_images(tmp_path / "imgs", 2)
    (tmp_path / "imgs" / "broken.jpg").write_bytes(b"not a jpeg")
    with pytest.raises(ValueError, match=r"cannot read image file '.*broken.jpg'"):
        data.folder_images(tmp_path / "imgs")


@pytest.mark.parametrize("call, match", [
    (lambda: data.photo("lena"), r"photo must be one of \['chelsea'"),
    (lambda: data.photo_names("test"), r"split must be one of \['train', 'held_out', 'all'\]"),
    (lambda: data.embedded_crops("train", -4, 2), r"size must be a positive integer, got -4"),
])
def test_bad_arguments_are_clear_errors(call, match):
    with pytest.raises(ValueError, match=match):
        call()


@pytest.mark.skipif(not data.FASHION_MNIST_DEBIAN.is_dir(), reason="Debian's dataset-fashion-mnist is not installed")
def test_fashion_mnist_reads_the_debian_files():
    test = data.fashion_mnist(train=False)
    assert len(test) == 10_000 and test.data.shape == (10_000, 28, 28)
    assert sorted(set(test.targets.tolist())) == list(range(10))


def test_test_images_photos_then_crops_or_a_folder(tmp_path):
    images, text = data.test_images(2, 16, split="held_out")
    assert torch.equal(images, data.photos(["chelsea", "coffee"], 16)) and "chelsea" in text
    many, text = data.test_images(5, 16, seed=1, split="held_out")
    assert torch.equal(many, data.embedded_crops("held_out", 16, 5, 1).batch(range(5))) and "crops" in text
    _write_images(tmp_path / "imgs" / "val", 3)
    chosen, text = data.test_images(2, 16, seed=0, data_dir=str(tmp_path / "imgs"))
    assert chosen.shape == (2, 3, 16, 16) and str(tmp_path / "imgs" / "val") in text
    with pytest.raises(FileNotFoundError):
        data.test_images(2, 16, data_dir=str(tmp_path / "missing"))
    with pytest.raises(ValueError, match="n must be a positive integer"):
        data.test_images(0, 16)


@pytest.mark.parametrize("call, match", [
    (lambda: data.test_images(2, 0), r"size must be a positive integer, got 0"),
    (lambda: data.test_images(2.0, 16), r"n must be a positive integer, got 2.0"),
    (lambda: data.folder_images("/", n=-1), r"n must be a positive integer, got -1"),
    (lambda: data.ImageFiles("/", size=0), r"size must be a positive integer, got 0"),
])
def test_bad_sizes_are_named_before_any_work(call, match):
    with pytest.raises(ValueError, match=match):
        call()


def test_sixteen_bit_images_keep_their_range(tmp_path):
    import numpy as np

    ramp = (np.arange(64, dtype=np.uint16).reshape(8, 8) * 1000).astype(np.uint16)
    Image.fromarray(ramp).save(tmp_path / "deep.png")
    image = data.decode(tmp_path / "deep.png")
    assert image.shape == (3, 8, 8) and float(image.max()) == pytest.approx(63_000 / 65535, abs=1e-6)
    assert len(torch.unique(image[0])) == 64  # not saturated to white


def test_a_large_jpeg_is_reduced_while_decoding(tmp_path):
    import tracemalloc

    Image.new("RGB", (6000, 4000), (90, 120, 200)).save(tmp_path / "big.jpg", quality=50)
    tracemalloc.start()
    image = data.decode(tmp_path / "big.jpg", size=64)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert image.shape == (3, 64, 64) and abs(float(image[2].mean()) - 200 / 255) < 0.02
    assert peak < 50e6  # a full-size float copy would be 6000·4000·3·4 bytes = 288 MB


def _imagenet_root(root, splits=("train", "val")):
    for split in splits:
        _write_images(root / split / "n01", 2)
    return root


def test_check_layout_accepts_the_documented_layout_and_names_what_is_missing(tmp_path):
    root = _imagenet_root(tmp_path / "imagenet")
    assert data.check_layout(str(root), (("train", "val"), True), "random_cnn_trained_dcn", "paper") is True
    assert data.check_layout("", (("val",), False), "theory", "book") is False
    assert data.check_layout(str(root), ((), False), "preliminaries", "book") is False
    with pytest.raises(ValueError, match=r"reads train/<class>/<image>.*pass DATA_DIR"):
        data.check_layout("", (("train", "val"), True), "random_cnn_trained_dcn", "paper")
    with pytest.raises(ValueError, match=r"cifar-10-batches-py.*lacks"):
        data.check_layout(str(root), (("val", "cifar10"), True), "compressive_sensing", "paper")
    flat = tmp_path / "flat"
    _write_images(flat / "val", 2)  # images straight in val/, no class folders
    with pytest.raises(ValueError, match=r"val/<class>/<image>.*no class sub-folders"):
        data.check_layout(str(flat), (("val",), False), "theory", "book")
    with pytest.raises(FileNotFoundError, match="is not a folder"):
        data.check_layout(str(tmp_path / "nope"), (("val",), False), "theory", "book")


def test_the_root_of_the_layout_is_never_read_as_two_classes(tmp_path):
    root = _imagenet_root(tmp_path / "imagenet")
    _write_images(root / "train" / "n02", 3)
    images, text = data.test_images(2, 8, data_dir=str(root))
    assert "val" in text and images.shape == (2, 3, 8, 8)
    with pytest.raises(ValueError, match="holds only 2"):
        data.test_images(3, 8, data_dir=str(root))  # val holds 2 images; train's 7 are never mixed in


def test_cifar10_reads_torchvisions_format_and_refuses_anything_else(tmp_path):
    import pickle

    import numpy as np

    folder = tmp_path / data.CIFAR_FOLDER
    folder.mkdir()
    for name in data.CIFAR_FILES[:6]:
        batch = {"data": np.arange(2 * 3072, dtype=np.uint8).reshape(2, 3072), "labels": [1, 7]}
        (folder / name).write_bytes(pickle.dumps(batch, protocol=2))
    images, labels = data.cifar10(tmp_path, train=True)
    assert images.shape == (10, 3, 32, 32) and images.dtype == torch.uint8 and labels.tolist() == [1, 7] * 5

    class Payload:
        def __reduce__(self):
            return (print, ("this ran",))

    (folder / "test_batch").write_bytes(pickle.dumps({"data": Payload(), "labels": []}))
    with pytest.raises(ValueError, match=r"test_batch.*refusing"):
        data.cifar10(tmp_path, train=False)


def test_concurrent_first_unpacks_of_fashion_mnist_are_safe(tmp_path):
    if not data.FASHION_MNIST_DEBIAN.is_dir():
        pytest.skip("Debian's dataset-fashion-mnist is not installed")
    import subprocess
    import sys

    code = "import sys; from rdcn.core import data; print(len(data.fashion_mnist(False, sys.argv[1])))"
    runs = [subprocess.Popen([sys.executable, "-c", code, str(tmp_path)], stdout=subprocess.PIPE, text=True)
            for _ in range(4)]
    assert [r.communicate()[0].strip() for r in runs] == ["10000"] * 4
    assert all(r.returncode == 0 for r in runs)
    assert not list((tmp_path / "FashionMNIST" / "raw").glob("*.part"))


def test_without_the_debian_package_fashion_mnist_names_the_command(monkeypatch, tmp_path):
    monkeypatch.setattr(data, "FASHION_MNIST_DEBIAN", tmp_path / "absent")
    with pytest.raises(FileNotFoundError, match="apt-get install dataset-fashion-mnist"):
        data.fashion_mnist(False, tmp_path)
