"""Where CIFAR-10 comes from: the torchvision files, a JPEG copy, a download, or a fallback.

:func:`choose_cifar10` picks, in this order,

1. ``data_root()/"cifar10"`` holding torchvision's ``cifar-10-batches-py/`` -> ``"cifar10"``;
2. ``data_root()/"cifar10-jpeg"`` with ``{train,test}/<class>/*.jpg`` for the ten CIFAR-10
   classes (the lossy JPEG copy; results are labelled ``"cifar10-jpeg"``) -> ``"cifar10-jpeg"``;
3. when downloads are allowed, torchvision's download of CIFAR-10 (about 170 MB, with a
   progress bar) into ``data_root()/"cifar10"`` -> ``"cifar10"``;
4. otherwise the fallback, real MNIST (``"mnist5k"``) padded to 32 x 32.

Presence is checked from the folder structure only (nothing is read); the md5 checks are
torchvision's when the files are loaded. A failed download leaves nothing behind.

``python -m ddlib.core.data_sources unpack <tarball>`` unpacks a ``cifar10-jpeg`` tarball into
``data/cifar10-jpeg`` (see :func:`unpack_cifar10_jpeg`).
"""

from __future__ import annotations

import argparse
import contextlib
import shutil
import sys
import tarfile
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from ddlib.core.data import CIFAR10_FOLDER, DATASET_SHAPES, cifar10_root
from ddlib.core.paths import data_root

CIFAR10_CLASSES = ("airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship",
                   "truck")  # CIFAR-10's label order, also the sorted folder names of the JPEG copy
CIFAR10_JPEG_FOLDER = "cifar10-jpeg"
# What a download fetches, in MB (10^6 bytes): torchvision's archives and scikit-learn's tarball
DOWNLOAD_MB = {"mnist": 11.6, "cifar10": 170.5, "cifar100": 169.0, "california-housing": 0.4}


@dataclass(frozen=True)
class DatasetChoice:
    """The dataset to load, the side to pad its images to (None: as they are), and one line
    saying why (empty when the CIFAR-10 files were simply there)."""

    name: str
    pad_to: int | None
    notice: str


def has_torchvision_cifar10(root: Path) -> bool:
    """Whether ``root/cifar-10-batches-py/`` holds every (non-empty) file torchvision's CIFAR10
    expects; the files are not read."""
    import torchvision

    cls = torchvision.datasets.CIFAR10
    folder = root / cls.base_folder
    names = [name for name, _ in (*cls.train_list, *cls.test_list)] + [cls.meta["filename"]]
    return all((folder / name).is_file() and (folder / name).stat().st_size > 0 for name in names)


def has_cifar10_jpeg(root: Path) -> bool:
    """Whether ``root/{train,test}/<class>/`` exists with at least one .jpg for each of the ten
    CIFAR-10 classes."""
    folders = [root / split / cls for split in ("train", "test") for cls in CIFAR10_CLASSES]
    return all(f.is_dir() and next(f.glob("*.jpg"), None) is not None for f in folders)


def download_cifar10(root: Path) -> None:
    """Download CIFAR-10 into ``root/cifar-10-batches-py/`` with torchvision (URL and md5 checks
    are torchvision's), showing a progress bar even when ``TQDM_DISABLE`` is set (a 170 MB
    download should not look like a hang); the tarball is removed once extracted."""
    import urllib.request

    import torchvision
    from tqdm.std import tqdm

    cls = torchvision.datasets.CIFAR10
    root.mkdir(parents=True, exist_ok=True)
    archive = root / cls.filename
    request = urllib.request.Request(cls.url, headers={"User-Agent": "ddlib"})
    with urllib.request.urlopen(request, timeout=60) as response, open(archive, "wb") as handle, \
            tqdm(total=response.length, unit="B", unit_scale=True, desc="CIFAR-10",
                 disable=False, mininterval=1.0, file=sys.stderr) as bar:
        while chunk := response.read(1 << 20):
            handle.write(chunk)
            bar.update(len(chunk))
    cls(str(root), train=True, download=True)  # checks the tarball's md5, extracts, checks files
    archive.unlink()


def _download_choice(download: Callable[[Path], None]) -> tuple[bool, str]:
    """Run ``download`` into a temporary folder beside ``data_root()/"cifar10"`` and move the
    result into place; on any failure remove everything it wrote. Returns (success, reason)."""
    root = data_root()
    target = root / CIFAR10_FOLDER
    created = [p for p in (root, target) if not p.exists()]  # removed again if left empty
    root.mkdir(parents=True, exist_ok=True)
    scratch = Path(tempfile.mkdtemp(dir=root, prefix=".cifar10-download-"))
    moved = False
    try:
        download(scratch)
        import torchvision

        base = torchvision.datasets.CIFAR10.base_folder
        if not has_torchvision_cifar10(scratch):
            return False, f"the download did not produce {base}/"
        target.mkdir(exist_ok=True)
        (scratch / base).rename(target / base)
        moved = True
        return True, ""
    except Exception as error:  # offline (URLError, OSError), bad md5 (RuntimeError), bad archive
        if has_torchvision_cifar10(target):  # another process (run_all.sh --jobs) put it there
            moved = True
            return True, ""
        return False, f"{type(error).__name__}: {error}"
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
        if not moved:
            for folder in reversed(created):
                with contextlib.suppress(OSError):
                    folder.rmdir()  # only if still empty


CIFAR10_OR_FALLBACK = "cifar10-or-mnist5k"  # a study's dataset value: choose_cifar10 picks it
CIFAR10_CANDIDATES = ("cifar10", "mnist5k")  # what it can become (cifar10-jpeg: cifar10's shape)


def choose_cifar10(allow_download: bool, fallback: str = "mnist5k", *,
                   download: Callable[[Path], None] = download_cifar10) -> DatasetChoice:
    """The CIFAR-10 source to use, in the order of the module docstring.

    ``download(folder)`` must leave torchvision's ``cifar-10-batches-py/`` in ``folder`` or
    raise; it is called only when ``allow_download`` is True and neither copy is on disk.
    ``fallback`` is any known dataset of at most 32 x 32 pixels; smaller images are padded to 32.
    """
    shape = DATASET_SHAPES.get(fallback)
    if shape is None or shape.side > 32:
        raise ValueError(f"fallback={fallback!r} must be a known dataset of at most 32x32 pixels: "
                         f"{[n for n, s in DATASET_SHAPES.items() if s.side <= 32]}")
    root = data_root()
    if has_torchvision_cifar10(cifar10_root()):
        return DatasetChoice("cifar10", None, "")
    jpeg = root / CIFAR10_JPEG_FOLDER
    if has_cifar10_jpeg(jpeg):
        return DatasetChoice(CIFAR10_JPEG_FOLDER, None,
                             f"using CIFAR-10 from {jpeg} (JPEG copy; results labelled cifar10-jpeg)")
    why = "downloads are off"
    if allow_download:
        import torchvision

        print(f"CIFAR-10 is not in {root / CIFAR10_FOLDER} or {jpeg}: downloading it (about "
              f"{DOWNLOAD_MB['cifar10']:.0f} MB) from {torchvision.datasets.CIFAR10.url} into "
              f"{root / CIFAR10_FOLDER}", flush=True)
        ok, reason = _download_choice(download)
        if ok:
            return DatasetChoice("cifar10", None,
                                 f"downloaded CIFAR-10 into {root / CIFAR10_FOLDER}")
        why = f"the download failed ({reason})"
    pad_to = 32 if shape.side < 32 else None
    padded = f", padded to {pad_to}x{pad_to}" if pad_to else ""
    what = "real MNIST" if fallback.startswith("mnist") else fallback
    return DatasetChoice(fallback, pad_to,
                         f"CIFAR-10 not found in {root / CIFAR10_FOLDER} or {jpeg} and {why}: "
                         f"using {fallback} ({what}{padded}); figures and claims are labelled "
                         f"{fallback}")


def _safe_members(tar: tarfile.TarFile) -> list[tarfile.TarInfo]:
    """The members of a cifar10-jpeg tarball: files and folders under ``cifar10-jpeg/``; refuses
    absolute paths, ``..``, links and devices."""
    members = []
    for member in tar.getmembers():
        path = PurePosixPath(member.name)
        if path.is_absolute() or ".." in path.parts or member.name.startswith(("/", "\\")):
            raise ValueError(f"refusing tarball member {member.name!r}: absolute or '..' path")
        if not (member.isfile() or member.isdir()):
            raise ValueError(f"refusing tarball member {member.name!r}: not a file or folder")
        if path.parts and path.parts[0] == CIFAR10_JPEG_FOLDER:
            members.append(member)
    return members


def unpack_cifar10_jpeg(tarball: Path, destination: Path) -> Path:
    """Extract ``cifar10-jpeg/{train,test}/<class>/<i>.jpg`` from ``tarball`` into
    ``destination`` (which must not exist yet) and return it.

    Extraction goes into a temporary sibling folder that is renamed to ``destination`` only when
    complete, so a killed or failed unpack leaves nothing at ``destination``.
    """
    tarball, destination = Path(tarball), Path(destination)
    if destination.exists():
        raise FileExistsError(f"{destination} exists already: remove it first to unpack again")
    destination.parent.mkdir(parents=True, exist_ok=True)
    scratch = Path(tempfile.mkdtemp(dir=destination.parent, prefix=f".{destination.name}-unpack-"))
    try:
        with tarfile.open(tarball) as tar:
            members = _safe_members(tar)
            tar.extractall(scratch, members=members, filter="data")
        unpacked = scratch / CIFAR10_JPEG_FOLDER
        if not has_cifar10_jpeg(unpacked):
            raise ValueError(f"{tarball} does not hold {CIFAR10_JPEG_FOLDER}/{{train,test}}/"
                             f"<class>/*.jpg for the ten classes {list(CIFAR10_CLASSES)}")
        unpacked.rename(destination)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    return destination


def _main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m ddlib.core.data_sources",
                                     description="Put CIFAR-10 where ddlib looks for it.")
    commands = parser.add_subparsers(dest="command", required=True)
    unpack = commands.add_parser("unpack", help="unpack a cifar10-jpeg tarball into data/")
    unpack.add_argument("tarball", type=Path)
    unpack.add_argument("--to", type=Path, default=None,
                        help="destination folder (default: <data>/cifar10-jpeg)")
    commands.add_parser("which", help="say which CIFAR-10 source would be used (no download)")
    args = parser.parse_args(argv)
    if args.command == "unpack":
        destination = unpack_cifar10_jpeg(args.tarball, args.to or data_root() / CIFAR10_JPEG_FOLDER)
        print(f"unpacked {args.tarball} into {destination}")
    else:
        choice = choose_cifar10(allow_download=False)
        print(f"{choice.name}: {choice.notice or 'torchvision files in ' + str(cifar10_root())}")
    return 0


if __name__ == "__main__":
    raise SystemExit(_main())
