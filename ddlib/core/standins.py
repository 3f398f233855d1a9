"""Synthetic stand-ins of the real datasets, in their real on-disk layout, for a rehearsal.

A rehearsal runs the ``paper`` profiles' code paths on a machine that may not hold their datasets.
Each dataset that is not on disk is replaced by a stand-in: seeded random files with the real
dataset's image shape, dtype, class count or feature count, written where and how the real loader
expects them, so that :func:`ddlib.core.data.load_classification` and
:func:`ddlib.core.data.load_regression` read them exactly as they read the real files:

- ``mnist``: torchvision's ``MNIST/raw/*-ubyte`` files (the idx format), 1 x 28 x 28, 10 classes;
- ``cifar10``: torchvision's ``cifar10/cifar-10-batches-py/`` pickles, 3 x 32 x 32, 10 classes;
- ``cifar100``: torchvision's ``cifar-100-python/`` pickles, 3 x 32 x 32, 100 classes;
- ``california-housing``: scikit-learn's cache ``sklearn/cal_housing_py3.pkz``, 8 features;
- ``who-life-expectancy``: the Kaggle CSV (its 22 columns), 17 features used.

Images are ``STANDIN_TRAIN`` + ``STANDIN_TEST`` per dataset with balanced labels; each class has its
own coarse pattern under the noise, so a model can learn something. CIFAR stand-ins cannot match
torchvision's md5 sums: they are read with ``ddlib.core.data.VERIFY_INTEGRITY = False``.

Every stand-in written is announced on stdout as synthetic. The writer never overwrites a file;
:func:`missing_datasets` says which datasets the data folder lacks, and :func:`prepare_data_folder`
fills a temporary folder with links to the real files where they exist and stand-ins elsewhere.
"""

from __future__ import annotations

import pickle
import struct
from collections.abc import Callable, Iterable
from pathlib import Path, PurePosixPath

import numpy as np

from ddlib.core.data import (
    CIFAR10_FOLDER,
    DATASET_SHAPES,
    FEATURE_COUNTS,
    REGRESSION_DATASETS,
    WHO_FILE,
    cifar10_root,
)
from ddlib.core.paths import data_root

STANDIN_TRAIN = 1_000  # training images of each image stand-in (10 per CIFAR-100 class)
STANDIN_TEST = 500  # test images of each image stand-in (5 per CIFAR-100 class)
STANDIN_ROWS = 1_000  # complete rows of each regression stand-in
STANDIN_SEED = 0
PATTERN_CELLS = 4  # each class's pattern is PATTERN_CELLS x PATTERN_CELLS blocks of one grey level
CALIFORNIA_FILE = PurePosixPath("sklearn/cal_housing_py3.pkz")  # fetch_california_housing's cache
WHO_COLUMNS = ("Country", "Year", "Status", "Life expectancy ", "Adult Mortality", "infant deaths",
               "Alcohol", "percentage expenditure", "Hepatitis B", "Measles ", " BMI ",
               "under-five deaths ", "Polio", "Total expenditure", "Diphtheria ", " HIV/AIDS",
               "GDP", "Population", " thinness  1-19 years", " thinness 5-9 years",
               "Income composition of resources", "Schooling")  # the Kaggle header, spaces included


# ---- where each dataset's files lie --------------------------------------------------------------
def _cifar_files(cls: type) -> list[str]:
    return [file for file, _ in (*cls.train_list, *cls.test_list)] + [cls.meta["filename"]]


def standin_files(name: str) -> list[PurePosixPath]:
    """The files the loader of ``name`` reads, relative to the data folder (CIFAR-10 in
    ``cifar10/``, where :func:`ddlib.core.data.cifar10_root` looks first)."""
    import torchvision

    datasets = torchvision.datasets
    if name == "mnist":
        raw = PurePosixPath(datasets.MNIST.__name__, "raw")
        return [raw / PurePosixPath(url).name.removesuffix(".gz") for url, _ in
                datasets.MNIST.resources]
    if name == "cifar10":
        folder = PurePosixPath(CIFAR10_FOLDER, datasets.CIFAR10.base_folder)
        return [folder / file for file in _cifar_files(datasets.CIFAR10)]
    if name == "cifar100":
        return [PurePosixPath(datasets.CIFAR100.base_folder, file)
                for file in _cifar_files(datasets.CIFAR100)]
    if name == "california-housing":
        return [CALIFORNIA_FILE]
    if name == "who-life-expectancy":
        return [PurePosixPath(WHO_FILE)]
    raise ValueError(f"dataset={name!r} has no stand-in; stand-ins: {list(STANDIN_DATASETS)}")


def _real_files(name: str) -> list[Path]:
    """Where the loader of ``name`` reads its files under ``data_root()`` (CIFAR-10 where
    :func:`ddlib.core.data.cifar10_root` finds it)."""
    if name == "cifar10":
        return [cifar10_root() / path.relative_to(CIFAR10_FOLDER) for path in standin_files(name)]
    return [data_root() / path for path in standin_files(name)]


def _is_on_disk(name: str) -> bool:
    return all(path.is_file() and path.stat().st_size > 0 for path in _real_files(name))


def missing_datasets(names: Iterable[str]) -> list[str]:
    """The datasets among ``names`` that need a stand-in: those with one whose files are not all
    under ``data_root()``, in the order given. Datasets that come with a package (``mnist5k``,
    ``digits``, ``diabetes``, ``student-teacher``) and ``cifar10-jpeg`` (no stand-in) are never
    listed. Nothing is read or written."""
    names = list(dict.fromkeys(names))
    unknown = [n for n in names if n not in DATASET_SHAPES and n not in REGRESSION_DATASETS]
    if unknown:
        raise ValueError(f"unknown datasets {unknown}; known: "
                         f"{[*DATASET_SHAPES, *REGRESSION_DATASETS]}")
    return [n for n in names if n in STANDIN_DATASETS and not _is_on_disk(n)]


# ---- contents --------------------------------------------------------------------------------
def _images(rng: np.random.Generator, name: str) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """``{"train": (images, labels), "test": ...}``: N x C x side x side uint8 images, int64
    labels with every class equally often (in a seeded order). Each image is its class's pattern
    (coarse blocks of random grey levels) blended with uniform noise."""
    shape = DATASET_SHAPES[name]
    block = shape.side // PATTERN_CELLS
    cells = rng.integers(0, 256, (shape.classes, shape.channels, PATTERN_CELLS, PATTERN_CELLS))
    patterns = np.kron(cells, np.ones((block, block)))

    def split(count: int) -> tuple[np.ndarray, np.ndarray]:
        labels = rng.permutation(np.arange(count) % shape.classes)
        noise = rng.integers(0, 256, (count, shape.channels, shape.side, shape.side))
        images = np.rint(0.6 * patterns[labels] + 0.4 * noise).astype(np.uint8)
        return images, labels.astype(np.int64)

    return {"train": split(STANDIN_TRAIN), "test": split(STANDIN_TEST)}


def _idx(array: np.ndarray) -> bytes:
    """A uint8 array in the idx format torchvision's MNIST reads: magic (0, 0, 0x08 for unsigned
    bytes, number of dimensions), each dimension as a big-endian uint32, then the bytes."""
    header = bytes([0, 0, 0x08, array.ndim]) + b"".join(struct.pack(">I", d) for d in array.shape)
    return header + np.ascontiguousarray(array, dtype=np.uint8).tobytes()


def _mnist(rng: np.random.Generator) -> list[bytes]:
    """The four raw files in the order of torchvision's ``MNIST.resources``: train images and
    labels, test images and labels."""
    splits = _images(rng, "mnist")
    return [_idx(array) for split in ("train", "test")
            for array in (splits[split][0][:, 0], splits[split][1])]


def _cifar_batch(images: np.ndarray, labels: np.ndarray, label_key: str, label: str) -> dict:
    """One pickled CIFAR batch as the real ones hold it (rows of 3072 bytes, channel-major)."""
    return {"batch_label": label, label_key: labels.tolist(),
            "data": images.reshape(len(images), -1),
            "filenames": [f"synthetic_{i:05d}.png" for i in range(len(images))]}


def _cifar10(rng: np.random.Generator) -> list[bytes]:
    """``data_batch_1`` .. ``data_batch_5``, ``test_batch``, ``batches.meta``."""
    from ddlib.core.data_sources import CIFAR10_CLASSES

    splits = _images(rng, "cifar10")
    batches = [(*chunk, f"training batch {k + 1} of 5 (synthetic stand-in)") for k, chunk in
               enumerate(zip(*(np.array_split(a, 5) for a in splits["train"]), strict=True))]
    batches.append((*splits["test"], "testing batch 1 of 1 (synthetic stand-in)"))
    meta = {"label_names": list(CIFAR10_CLASSES), "num_cases_per_batch": STANDIN_TRAIN // 5,
            "num_vis": 3 * 32 * 32}
    return [pickle.dumps(_cifar_batch(x, y, "labels", label)) for x, y, label in batches] + [
        pickle.dumps(meta)]


def _cifar100(rng: np.random.Generator) -> list[bytes]:
    """``train``, ``test`` and ``meta``; the 20 coarse labels group five fine ones each."""
    splits = _images(rng, "cifar100")
    files = []
    for split in ("train", "test"):
        batch = _cifar_batch(*splits[split], "fine_labels", f"{split} (synthetic stand-in)")
        files.append(pickle.dumps({**batch, "coarse_labels": [y // 5 for y in batch["fine_labels"]]}))
    meta = {"fine_label_names": [f"class_{k:02d}" for k in range(100)],
            "coarse_label_names": [f"superclass_{k:02d}" for k in range(20)]}
    return [*files, pickle.dumps(meta)]


def _california(rng: np.random.Generator) -> list[bytes]:
    """scikit-learn's cache: a joblib dump of an n x 9 float64 array with the columns median house
    value [$], median income, median house age, total rooms, total bedrooms, population,
    households, latitude, longitude (sklearn derives the 8 features from them)."""
    import io

    import joblib

    n = STANDIN_ROWS
    households = rng.integers(50, 2_000, n).astype(float)
    rooms = households * rng.uniform(3, 8, n)
    income, age = rng.uniform(0.5, 15, n), rng.integers(1, 53, n).astype(float)
    columns = [income, age, rooms, rooms * rng.uniform(0.15, 0.25, n),
               households * rng.uniform(2, 4, n), households, rng.uniform(32.5, 42, n),
               rng.uniform(-124.3, -114.3, n)]
    value = np.clip(40_000 * income + 1_000 * age + rng.normal(0, 30_000, n), 14_999, 500_001)
    buffer = io.BytesIO()
    joblib.dump(np.column_stack([value, *columns]), buffer, compress=6)
    return [buffer.getvalue()]


def _who(rng: np.random.Generator) -> list[bytes]:
    """The Kaggle CSV: ``STANDIN_ROWS`` complete rows and a tenth as many with one value missing
    (the loader drops those)."""
    import pandas as pd

    n = STANDIN_ROWS + STANDIN_ROWS // 10
    numbers = rng.uniform(0, 100, (n, len(WHO_COLUMNS) - 4))
    expectancy = 40 + 0.3 * numbers[:, -1] + rng.normal(0, 2, n)  # rises with Schooling
    incomplete = rng.choice(n, n - STANDIN_ROWS, replace=False)
    numbers[incomplete, rng.integers(0, numbers.shape[1], len(incomplete))] = np.nan
    frame = pd.DataFrame(numbers, columns=list(WHO_COLUMNS[4:]))
    frame.insert(0, WHO_COLUMNS[0], [f"Country {i // 16}" for i in range(n)])
    frame.insert(1, WHO_COLUMNS[1], 2000 + np.arange(n) % 16)
    frame.insert(2, WHO_COLUMNS[2], np.where(rng.random(n) < 0.2, "Developed", "Developing"))
    frame.insert(3, WHO_COLUMNS[3], expectancy)
    return [frame.to_csv(index=False).encode()]


STANDIN_DATASETS: dict[str, Callable[[np.random.Generator], list[bytes]]] = {
    "mnist": _mnist, "cifar10": _cifar10, "cifar100": _cifar100,
    "california-housing": _california, "who-life-expectancy": _who,
}  # each writer returns the contents of standin_files(name), in that order


def _describe(name: str) -> str:
    if name in DATASET_SHAPES:
        shape = DATASET_SHAPES[name]
        return (f"{STANDIN_TRAIN:,} train + {STANDIN_TEST:,} test random images of "
                f"{shape.channels}x{shape.side}x{shape.side}, {shape.classes} classes")
    return f"{STANDIN_ROWS:,} random rows of {FEATURE_COUNTS[name]} features"


# ---- writing ---------------------------------------------------------------------------------
def write_standins(folder: Path, names: Iterable[str], seed: int = STANDIN_SEED) -> list[Path]:
    """Write the stand-ins of ``names`` into the data folder ``folder`` (created if needed) and
    return the files written; each dataset is announced on stdout as synthetic.

    Refuses (FileExistsError, before writing anything) when any of the files is there already:
    a stand-in never replaces a file, real or not. The content depends only on ``seed`` and the
    dataset.
    """
    folder, names = Path(folder), list(dict.fromkeys(names))
    targets = {name: [folder / path for path in standin_files(name)] for name in names}
    existing = [str(path) for paths in targets.values() for path in paths if path.exists()]
    if existing:
        raise FileExistsError(f"refusing to write synthetic stand-ins over existing files: "
                              f"{existing}")
    written = []
    for name in names:
        stream = list(STANDIN_DATASETS).index(name)  # one random stream per dataset
        contents = STANDIN_DATASETS[name](np.random.default_rng([seed, stream]))
        for path, content in zip(targets[name], contents, strict=True):
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(content)
            written.append(path)
        print(f"SYNTHETIC STAND-IN: {name} is not the real dataset but {_describe(name)}, "
              f"written to {targets[name][0].parent} (for a rehearsal only)", flush=True)
    return written


def prepare_data_folder(folder: Path, names: Iterable[str]) -> list[str]:
    """Make ``folder`` a data folder for a rehearsal of ``names`` and return the datasets given
    stand-ins there: each dataset of :func:`missing_datasets` gets its stand-in
    (:func:`write_standins`); each other dataset with a stand-in is linked to its real files
    under ``data_root()`` (symbolic links; the real files are neither read nor changed).

    Point ``DDLIB_DATA`` at ``folder`` and set ``ddlib.core.data.VERIFY_INTEGRITY = False`` for the
    loaders to read it.
    """
    names = list(dict.fromkeys(names))
    missing = missing_datasets(names)
    for name in (n for n in names if n in STANDIN_DATASETS and n not in missing):
        for real, path in zip(_real_files(name), standin_files(name), strict=True):
            link = Path(folder) / path
            link.parent.mkdir(parents=True, exist_ok=True)
            link.symlink_to(real)
    write_standins(folder, missing)
    return missing
