"""Data loading: real IDX files, bad files, and downloads from a loopback server."""

import gzip
import http.server
import shutil
import threading
from pathlib import Path

import numpy as np
import pytest

from bioplastic.datasets import DATASETS, DatasetError, load_dataset, read_idx

MNIST_TEST_COUNTS = [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]


def test_mnist_test_split_matches_published_counts(data_dir):
    data = load_dataset("mnist", "test", data_dir=data_dir, download=False)
    assert data.images.shape == (10000, 28, 28) and data.images.dtype == np.uint8
    assert np.bincount(data.labels).tolist() == MNIST_TEST_COUNTS
    assert data.intensities().max() == 1.0


def test_fashion_mnist_loads_from_parent_or_own_folder(data_dir):
    a = load_dataset("fashion-mnist", "test", data_dir=data_dir, download=False)
    b = load_dataset("fashion-mnist", "test", data_dir=data_dir / "fashion-mnist",
                     download=False)
    assert np.array_equal(a.labels, b.labels)
    assert np.bincount(a.labels).tolist() == [1000] * 10
    assert a.classes[9] == "Ankle boot"


def test_environment_variable_selects_the_folder(data_dir, monkeypatch):
    monkeypatch.setenv("BIOPLASTIC_DATA", str(data_dir))
    assert len(load_dataset("mnist", "test", download=False)) == 10000


def test_raw_idx_files_are_accepted_and_checked(data_dir, tmp_path):
    for name in ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"):
        with gzip.open(data_dir / "mnist" / f"{name}.gz") as src:
            (tmp_path / name).write_bytes(src.read())
    data = load_dataset("mnist", "test", data_dir=tmp_path, download=False)
    assert len(data) == 10000
    raw = tmp_path / "t10k-labels-idx1-ubyte"
    raw.write_bytes(raw.read_bytes()[:-1] + b"\x03")
    with pytest.raises(DatasetError, match="t10k-labels-idx1-ubyte: SHA-256"):
        load_dataset("mnist", "test", data_dir=tmp_path, download=False)


@pytest.mark.parametrize("content, message", [
    (b"\x00\x00\x08\x05" + b"\x00" * 20, "bad IDX magic number 2053"),
    (b"\x00\x00\x08\x01\x00\x00\x00\x05" + b"\x01\x02", "announces [5] (5 bytes of data) but the file holds 2"),
    (b"\x00\x00\x08\x03\x00\x00\x00\x01\x00\x00\x00\x1c\x00\x00\x00\x1b" + b"\x00" * 756,
     "images are 28x27, expected 28x28"),
    (b"\x00\x00\x08", "too short"),
    (b"\x00\x00\x08\x01\x00\x00\x00\x02\x01\x0c", "label 12 out of range"),
])
def test_malformed_idx_files_are_rejected(tmp_path, content, message):
    path = tmp_path / "bad-idx"
    path.write_bytes(content)
    with pytest.raises(DatasetError) as error:
        read_idx(path)
    assert message in str(error.value) and str(path) in str(error.value)


def test_wrong_item_count_and_broken_gzip(tmp_path):
    path = tmp_path / "labels.gz"
    with gzip.open(path, "wb") as out:
        out.write(b"\x00\x00\x08\x01\x00\x00\x00\x02\x01\x02")
    with pytest.raises(DatasetError, match="2 items, expected 10000"):
        read_idx(path, expected_count=10000)
    path.write_bytes(b"not gzip at all")
    with pytest.raises(DatasetError, match="cannot read"):
        read_idx(path)


def test_corrupted_local_file_is_reported_not_used(data_dir, tmp_path):
    shutil.copy(data_dir / "mnist" / "t10k-images-idx3-ubyte.gz", tmp_path)
    shutil.copy(data_dir / "mnist" / "t10k-labels-idx1-ubyte.gz", tmp_path)
    with open(tmp_path / "t10k-labels-idx1-ubyte.gz", "r+b") as handle:
        handle.seek(100)
        handle.write(b"\xff")
    with pytest.raises(DatasetError, match="does not match the published"):
        load_dataset("mnist", "test", data_dir=tmp_path, download=False)


def test_unknown_dataset_and_split():
    with pytest.raises(DatasetError, match="unknown dataset 'cifar'"):
        load_dataset("cifar")
    with pytest.raises(DatasetError, match="unknown split 'valid'"):
        load_dataset("mnist", "valid")


# ---------------------------------------------------------------- downloads
class _Handler(http.server.SimpleHTTPRequestHandler):
    """Serves a folder; files under /short/ announce their full length but stop halfway."""

    def log_message(self, *args):
        pass

    def do_GET(self):
        if self.path.startswith("/short/"):
            data = (Path(self.directory) / "good" / self.path[len("/short/"):]).read_bytes()
            self.send_response(200)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data[: len(data) // 2])
            return
        super().do_GET()


@pytest.fixture
def server(data_dir, tmp_path):
    root = tmp_path / "www"
    (root / "good").mkdir(parents=True)
    (root / "corrupt").mkdir()
    for name in ("t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"):
        shutil.copy(data_dir / "mnist" / name, root / "good" / name)
        data = bytearray((data_dir / "mnist" / name).read_bytes())
        data[len(data) // 2] ^= 0xFF
        (root / "corrupt" / name).write_bytes(bytes(data))
    handler = lambda *a, **k: _Handler(*a, directory=str(root), **k)  # noqa: E731
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


def _leftovers(folder):
    return [p.name for p in Path(folder).glob("*") if p.suffix != ".gz"]


def test_download_verifies_and_caches(server, tmp_path):
    cache = tmp_path / "cache"
    data = load_dataset("mnist", "test", data_dir=cache, mirrors=[server + "/good/"])
    assert np.bincount(data.labels).tolist() == MNIST_TEST_COUNTS
    assert sorted(p.name for p in cache.iterdir()) == ["t10k-images-idx3-ubyte.gz",
                                                       "t10k-labels-idx1-ubyte.gz"]
    # second load: served from the cache, the (dead) mirror is not needed
    again = load_dataset("mnist", "test", data_dir=cache, mirrors=["http://127.0.0.1:9/"])
    assert np.array_equal(again.images, data.images)


def test_corrupted_download_leaves_nothing(server, tmp_path):
    cache = tmp_path / "cache"
    with pytest.raises(DatasetError) as error:
        load_dataset("mnist", "test", data_dir=cache, mirrors=[server + "/corrupt/"])
    assert "checksum mismatch" in str(error.value)
    assert server + "/corrupt/t10k-images-idx3-ubyte.gz" in str(error.value)
    assert not list(cache.glob("*"))


def test_truncated_download_leaves_nothing(server, tmp_path):
    cache = tmp_path / "cache"
    with pytest.raises(DatasetError, match="truncated"):
        load_dataset("mnist", "test", data_dir=cache, mirrors=[server + "/short/"])
    assert not list(cache.glob("*"))


def test_next_mirror_is_tried_after_a_bad_one(server, tmp_path):
    cache = tmp_path / "cache"
    mirrors = [server + "/corrupt/", server + "/missing/", server + "/good/"]
    assert len(load_dataset("mnist", "test", data_dir=cache, mirrors=mirrors)) == 10000
    assert not _leftovers(cache)


def test_published_checksums_are_complete():
    for name, spec in DATASETS.items():
        assert len(spec["files"]) == 4 and spec["mirrors"]
        for entry in spec["files"].values():
            assert len(entry.sha256_gz) == 64 and len(entry.sha256_raw) == 64
