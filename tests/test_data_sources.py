"""Where CIFAR-10 comes from (ddlib.core.data_sources): every branch of choose_cifar10 on files
written here into a temporary DDLIB_DATA, the JPEG unpacker, and the decoded-folder cache."""

from __future__ import annotations

import http.server
import io
import os
import pickle
import socket
import tarfile
import threading
import time
from pathlib import Path

import numpy as np
import pytest

from ddlib.core import data as ddata
from ddlib.core import data_sources as sources
from ddlib.core.data_sources import CIFAR10_CLASSES, choose_cifar10, unpack_cifar10_jpeg


@pytest.fixture
def data_dir(tmp_path, monkeypatch):
    folder = tmp_path / "data"
    folder.mkdir()
    monkeypatch.setenv("DDLIB_DATA", str(folder))
    ddata._raw_images_in.cache_clear()
    yield folder
    ddata._raw_images_in.cache_clear()


@pytest.fixture
def unchecked_cifar10(monkeypatch):
    """torchvision's CIFAR10 without md5 checks (:func:`ddata.without_md5_checks`, and none of
    the tarball) in place of the real class, for the fake files and tarballs below."""
    import torchvision

    cls = ddata.without_md5_checks(torchvision.datasets.CIFAR10)
    cls.tgz_md5 = None  # the download tests serve a tarball written here
    monkeypatch.setattr(torchvision.datasets, "CIFAR10", cls)
    return cls


def write_cifar_batches(folder: Path, per_batch: int = 4, seed: int = 0) -> None:
    """torchvision's cifar-10-batches-py/ layout with ``per_batch`` random images per batch."""
    folder.mkdir(parents=True)
    rng = np.random.default_rng(seed)
    for name in [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"]:
        batch = {"data": rng.integers(0, 256, (per_batch, 3072), dtype=np.uint8),
                 "labels": [int(v) for v in rng.integers(0, 10, per_batch)]}
        (folder / name).write_bytes(pickle.dumps(batch))
    (folder / "batches.meta").write_bytes(pickle.dumps({"label_names": list(CIFAR10_CLASSES)}))


def write_jpeg_folder(root: Path, train: int = 2, test: int = 1) -> None:
    """``root/{train,test}/<class>/<i>.jpg``, 32 x 32, class k a flat grey of level 20 k."""
    from PIL import Image

    for split, count in (("train", train), ("test", test)):
        for k, cls in enumerate(CIFAR10_CLASSES):
            (root / split / cls).mkdir(parents=True)
            for i in range(count):
                Image.new("RGB", (32, 32), (20 * k,) * 3).save(root / split / cls / f"{i}.jpg",
                                                                quality=95)


def files_under(folder: Path) -> list[str]:
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*"))


# ---- (1) torchvision's files in data/cifar10 ----------------------------------------------------
def test_torchvision_files_are_chosen_first_and_load(data_dir, unchecked_cifar10):
    write_cifar_batches(data_dir / "cifar10" / "cifar-10-batches-py")
    write_jpeg_folder(data_dir / "cifar10-jpeg")  # present too, but (1) comes first
    choice = choose_cifar10(allow_download=True, download=pytest.fail)
    assert choice == sources.DatasetChoice("cifar10", None, "")
    d = ddata.load_classification("cifar10", label_noise=0.25)
    assert d.x_train.shape == (20, 3, 32, 32) and d.x_test.shape == (4, 3, 32, 32)
    assert d.num_classes == 10 and d.noisy_mask.sum() == 5


def test_incomplete_torchvision_folder_is_not_chosen(data_dir):
    write_cifar_batches(data_dir / "cifar10" / "cifar-10-batches-py")
    (data_dir / "cifar10" / "cifar-10-batches-py" / "data_batch_3").unlink()
    (data_dir / "cifar10" / "cifar-10-batches-py" / "test_batch").write_bytes(b"")
    assert choose_cifar10(allow_download=False).name == "mnist5k"


# ---- (2) the JPEG copy in data/cifar10-jpeg -----------------------------------------------------
def test_jpeg_folder_is_chosen_and_loads(data_dir):
    write_jpeg_folder(data_dir / "cifar10-jpeg")
    choice = choose_cifar10(allow_download=True, download=pytest.fail)
    assert choice.name == "cifar10-jpeg" and choice.pad_to is None
    assert "cifar10-jpeg" in choice.notice and "\n" not in choice.notice
    d = ddata.load_classification("cifar10-jpeg", normalize=False)
    assert d.x_train.shape == (20, 3, 32, 32) and d.x_test.shape == (10, 3, 32, 32)
    assert d.num_classes == 10 and d.y_train.tolist() == [k for k in range(10) for _ in range(2)]
    levels = d.x_train[:, 0].mean(dim=(1, 2)) * 255  # JPEG is lossy: within a few levels
    assert np.allclose(levels.numpy(), [20 * k for k in range(10) for _ in range(2)], atol=3)


def test_jpeg_folder_missing_a_class_is_not_chosen(data_dir):
    write_jpeg_folder(data_dir / "cifar10-jpeg")
    for file in (data_dir / "cifar10-jpeg" / "test" / "frog").iterdir():
        file.unlink()
    assert choose_cifar10(allow_download=False).name == "mnist5k"


def test_decoded_jpeg_folder_is_cached_and_a_changed_folder_invalidates_it(data_dir, monkeypatch):
    from PIL import Image

    root = data_dir / "cifar10-jpeg"
    write_jpeg_folder(root)
    first = ddata._raw_images("cifar10-jpeg", False)
    cache = data_dir / "cifar10-jpeg.cache.npz"
    assert cache.is_file() and not list(data_dir.glob(".*.tmp"))

    ddata._raw_images_in.cache_clear()
    real_open = Image.open
    monkeypatch.setattr(Image, "open", lambda *a, **k: pytest.fail("decoded despite the cache"))
    again = ddata._raw_images("cifar10-jpeg", False)
    for a, b in zip(first[:4], again[:4], strict=True):
        assert np.array_equal(a, b)

    monkeypatch.setattr(Image, "open", real_open)
    Image.new("RGB", (32, 32)).save(root / "train" / "cat" / "9.jpg")  # one more image
    ddata._raw_images_in.cache_clear()
    changed = ddata._raw_images("cifar10-jpeg", False)
    assert len(changed[0]) == 21 and changed[1].tolist().count(3) == 3

    cache.write_bytes(b"not a zip file")  # a damaged cache is decoded again and rewritten
    ddata._raw_images_in.cache_clear()
    assert len(ddata._raw_images("cifar10-jpeg", False)[0]) == 21
    with np.load(cache) as rewritten:
        assert rewritten["x_train"].shape == (21, 3, 32, 32)


# ---- (3) torchvision's download ----------------------------------------------------------------
def fake_cifar_tarball(tmp_path: Path) -> bytes:
    staging = tmp_path / "staging"
    write_cifar_batches(staging / "cifar-10-batches-py", per_batch=3, seed=1)
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        tar.add(staging / "cifar-10-batches-py", arcname="cifar-10-batches-py")
    return buffer.getvalue()


@pytest.fixture
def serve_bytes():
    """Serve ``payload`` at http://127.0.0.1:<port>/<name> from a thread; yields a starter."""
    servers = []

    def start(name: str, payload: bytes) -> str:
        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):  # noqa: N802 (http.server's name)
                if self.path != f"/{name}":
                    self.send_error(404)
                    return
                self.send_response(200)
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def log_message(self, *args):  # keep the test output clean
                pass

        server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
        return f"http://127.0.0.1:{server.server_address[1]}/{name}"

    yield start
    for server in servers:
        server.shutdown()
        server.server_close()


def test_download_from_a_loopback_server(data_dir, tmp_path, unchecked_cifar10, serve_bytes,
                                         monkeypatch, capsys):
    url = serve_bytes(unchecked_cifar10.filename, fake_cifar_tarball(tmp_path))
    monkeypatch.setattr(unchecked_cifar10, "url", url)
    choice = choose_cifar10(allow_download=True)
    out, err = capsys.readouterr()
    assert choice.name == "cifar10" and choice.pad_to is None
    assert "about 170 MB" in out and url in out and len(out.strip().splitlines()) == 1
    assert "CIFAR-10" in err and "100%" in err  # the progress bar, shown despite TQDM_DISABLE
    assert files_under(data_dir) == ["cifar10", "cifar10/cifar-10-batches-py"] + [
        f"cifar10/cifar-10-batches-py/{n}" for n in sorted(
            ["batches.meta", "test_batch", *[f"data_batch_{i}" for i in range(1, 6)]])]
    d = ddata.load_classification("cifar10")
    assert d.x_train.shape == (15, 3, 32, 32) and d.x_test.shape == (3, 3, 32, 32)
    assert choose_cifar10(allow_download=True, download=pytest.fail).name == "cifar10"


def closed_port_url() -> str:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"http://127.0.0.1:{port}/cifar-10-python.tar.gz"  # nothing listens there now


def test_offline_download_falls_back_and_leaves_nothing(tmp_path, monkeypatch, capsys):
    import torchvision

    data = tmp_path / "not-yet-created"
    monkeypatch.setenv("DDLIB_DATA", str(data))
    monkeypatch.setattr(torchvision.datasets.CIFAR10, "url", closed_port_url())
    choice = choose_cifar10(allow_download=True)
    assert choice.name == "mnist5k" and choice.pad_to == 32
    assert "download failed" in choice.notice and "URLError" in choice.notice
    assert "about 170 MB" in capsys.readouterr().out
    assert not data.exists()


def test_download_failing_half_way_leaves_nothing(data_dir, tmp_path, unchecked_cifar10,
                                                  serve_bytes, monkeypatch):
    truncated = fake_cifar_tarball(tmp_path)[:200]  # a broken archive: extraction fails
    monkeypatch.setattr(unchecked_cifar10, "url", serve_bytes(unchecked_cifar10.filename, truncated))
    choice = choose_cifar10(allow_download=True)
    assert choice.name == "mnist5k" and "download failed" in choice.notice
    assert files_under(data_dir) == []

    def partial(folder: Path) -> None:
        (folder / "cifar-10-batches-py").mkdir()
        (folder / "cifar-10-batches-py" / "data_batch_1").write_bytes(b"half")
        raise OSError("connection reset")

    choice = choose_cifar10(allow_download=True, download=partial)
    assert "connection reset" in choice.notice and files_under(data_dir) == []


# ---- (4) the fallback ---------------------------------------------------------------------------
def test_fallback_is_padded_mnist_and_writes_nothing(data_dir):
    choice = choose_cifar10(allow_download=False, download=pytest.fail)
    assert choice.name == "mnist5k" and choice.pad_to == 32
    assert "mnist5k" in choice.notice and "32x32" in choice.notice and "\n" not in choice.notice
    assert str(data_dir / "cifar10") in choice.notice and str(data_dir / "cifar10-jpeg") in choice.notice
    assert files_under(data_dir) == []
    assert choose_cifar10(False, fallback="digits").pad_to == 32
    with pytest.raises(ValueError, match="fallback"):
        choose_cifar10(False, fallback="imagenet")


# ---- unpacking the JPEG tarball -----------------------------------------------------------------
def jpeg_tarball(tmp_path: Path, extra: dict[str, bytes] | None = None) -> Path:
    write_jpeg_folder(tmp_path / "src" / "cifar10-jpeg", train=1, test=1)
    path = tmp_path / "cifar10-jpeg.tar.gz"
    with tarfile.open(path, "w:gz") as tar:
        tar.add(tmp_path / "src" / "cifar10-jpeg", arcname="cifar10-jpeg")
        for name, payload in (extra or {}).items():
            info = tarfile.TarInfo(name)
            info.size = len(payload)
            tar.addfile(info, io.BytesIO(payload))
    return path


def test_unpack_is_complete_and_lands_where_the_chain_looks(data_dir, tmp_path, capsys):
    tarball = jpeg_tarball(tmp_path)
    assert sources._main(["unpack", str(tarball)]) == 0
    assert "cifar10-jpeg" in capsys.readouterr().out
    assert sources.has_cifar10_jpeg(data_dir / "cifar10-jpeg")
    assert [p.name for p in data_dir.iterdir()] == ["cifar10-jpeg"]  # no temporary left
    assert choose_cifar10(allow_download=False).name == "cifar10-jpeg"
    with pytest.raises(FileExistsError):
        unpack_cifar10_jpeg(tarball, data_dir / "cifar10-jpeg")


@pytest.mark.parametrize("evil", ["../escaped.jpg", "/tmp/absolute.jpg",
                                  "cifar10-jpeg/train/cat/../../../up.jpg"])
def test_unpack_refuses_unsafe_members_and_leaves_nothing(tmp_path, evil):
    tarball = jpeg_tarball(tmp_path, {evil: b"x"})
    out = tmp_path / "out"
    with pytest.raises(ValueError, match="refusing"):
        unpack_cifar10_jpeg(tarball, out / "cifar10-jpeg")
    assert files_under(out) == [] and not (tmp_path / "escaped.jpg").exists()


def test_unpack_of_a_tarball_without_the_layout_leaves_nothing(tmp_path):
    path = tmp_path / "other.tar.gz"
    (tmp_path / "cifar10-jpeg" / "train").mkdir(parents=True)
    with tarfile.open(path, "w:gz") as tar:
        tar.add(tmp_path / "cifar10-jpeg", arcname="cifar10-jpeg")
    with pytest.raises(ValueError, match="ten classes"):
        unpack_cifar10_jpeg(path, tmp_path / "out" / "cifar10-jpeg")
    assert files_under(tmp_path / "out") == []


# ---- the real JPEG copy (DDLIB_CIFAR10_JPEG_TAR) ------------------------------------------------
def test_real_cifar10_jpeg_tarball(data_dir):
    tarball = os.environ.get("DDLIB_CIFAR10_JPEG_TAR")
    if not tarball or not Path(tarball).is_file():
        pytest.skip("DDLIB_CIFAR10_JPEG_TAR is not set to the cifar10-jpeg tarball")
    unpack_cifar10_jpeg(Path(tarball), data_dir / "cifar10-jpeg")
    assert choose_cifar10(allow_download=False).name == "cifar10-jpeg"
    start = time.perf_counter()
    x_tr, y_tr, x_te, y_te, classes = ddata._raw_images("cifar10-jpeg", False)
    decoded = time.perf_counter() - start
    assert x_tr.shape == (50_000, 3, 32, 32) and x_te.shape == (10_000, 3, 32, 32)
    assert classes == 10 and x_tr.dtype == np.uint8
    assert np.bincount(y_tr).tolist() == [5_000] * 10
    assert np.bincount(y_te).tolist() == [1_000] * 10

    ddata._raw_images_in.cache_clear()
    start = time.perf_counter()
    d = ddata.load_classification("cifar10-jpeg", train_size=1_000, test_size=500)
    cached = time.perf_counter() - start
    print(f"cifar10-jpeg: decoded in {decoded:.1f} s, from the cache in {cached:.1f} s")
    assert d.x_train.shape == (1_000, 3, 32, 32) and d.x_test.shape == (500, 3, 32, 32)
    assert np.bincount(d.y_train.numpy(), minlength=10).min() > 50  # a seeded subset, all classes
    assert cached < decoded
