"""MNIST and Fashion-MNIST: IDX readers, checksums, a cache and a downloader.

Where files are looked for, in order:

1. ``data_dir`` (the ``--data-dir`` option), either the folder holding the four
   files or its parent holding ``mnist/`` and ``fashion-mnist/`` folders;
2. the ``BIOPLASTIC_DATA`` environment variable (same layout);
3. the cache, ``$XDG_CACHE_HOME/bioplastic/data/<dataset>`` (``~/.cache/...``).

Files may be gzip-compressed (``*.gz``, as distributed) or raw IDX. Every file is
checked against its published SHA-256 before use. Missing files are downloaded from
the canonical public mirrors into the cache (or ``data_dir``); a download is written
to a temporary file, verified, and only then renamed into place, so a corrupted or
truncated transfer never leaves a half-written file behind.
"""

import gzip
import hashlib
import http.client
import os
import shutil
import tempfile
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import numpy as np

__all__ = ["DatasetError", "DATASETS", "load_dataset", "read_idx", "resolve_dir",
           "download_file", "Dataset"]


class DatasetError(RuntimeError):
    """A data file is missing, corrupted or malformed."""


@dataclass(frozen=True)
class DataFile:
    """One of the four files of a dataset."""

    name: str            # distributed (gzip) file name
    sha256_gz: str       # published SHA-256 of the .gz file
    sha256_raw: str      # SHA-256 of the decompressed IDX file
    count: int           # number of items

    @property
    def raw_name(self):
        return self.name[:-3]


_MNIST_MIRRORS = (
    "https://ossci-datasets.s3.amazonaws.com/mnist/",
    "https://storage.googleapis.com/cvdf-datasets/mnist/",
    "http://yann.lecun.com/exdb/mnist/",
)
_FASHION_MIRRORS = (
    "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/",
    "https://raw.githubusercontent.com/zalandoresearch/fashion-mnist/master/data/fashion/",
)

DATASETS = {
    "mnist": {
        "mirrors": _MNIST_MIRRORS,
        "classes": tuple(str(d) for d in range(10)),
        "files": {
            ("train", "images"): DataFile(
                "train-images-idx3-ubyte.gz",
                "440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609",
                "ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db", 60000),
            ("train", "labels"): DataFile(
                "train-labels-idx1-ubyte.gz",
                "3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c",
                "65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5", 60000),
            ("test", "images"): DataFile(
                "t10k-images-idx3-ubyte.gz",
                "8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6",
                "0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7", 10000),
            ("test", "labels"): DataFile(
                "t10k-labels-idx1-ubyte.gz",
                "f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6",
                "ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2", 10000),
        },
    },
    "fashion-mnist": {
        "mirrors": _FASHION_MIRRORS,
        "classes": ("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal",
                    "Shirt", "Sneaker", "Bag", "Ankle boot"),
        "files": {
            ("train", "images"): DataFile(
                "train-images-idx3-ubyte.gz",
                "3aede38d61863908ad78613f6a32ed271626dd12800ba2636569512369268a84",
                "c59f468a2f672dc815687fe0f83887768d799fd8a3f3276145d20f83aa44d888", 60000),
            ("train", "labels"): DataFile(
                "train-labels-idx1-ubyte.gz",
                "a04f17134ac03560a47e3764e11b92fc97de4d1bfaf8ba1a3aa29af54cc90845",
                "bad3541b69d912435c50bb6ba87bec294ff4f6a2e1246121d8633921760443d9", 60000),
            ("test", "images"): DataFile(
                "t10k-images-idx3-ubyte.gz",
                "346e55b948d973a97e58d2351dde16a484bd415d4595297633bb08f03db6a073",
                "5b4141f0afbad91edebe8549f8fcffe087ea10ca49f1dbef5c9a5cd8815ce37b", 10000),
            ("test", "labels"): DataFile(
                "t10k-labels-idx1-ubyte.gz",
                "67da17c76eaffca5446c3361aaab5c3cd6d1c2608764d35dfb1850b086bf8dd5",
                "0402a96d92fd2663957122ceb108a494c5af83dab82d92729df917d7dec38c34", 10000),
        },
    },
}

_IDX_MAGIC = {2049: 1, 2051: 3}  # labels: 1 dimension, images: 3 dimensions


@dataclass
class Dataset:
    """Images (uint8, n x 28 x 28) and labels (uint8, n) of one split."""

    name: str
    split: str
    images: np.ndarray
    labels: np.ndarray
    classes: tuple

    def __len__(self):
        return len(self.labels)

    def intensities(self):
        """Images as floats in [0, 1], flattened to n x 784."""
        return self.images.reshape(len(self), -1) / 255.0


def _check_name(name):
    if name not in DATASETS:
        raise DatasetError(f"unknown dataset '{name}': expected one of "
                           f"{', '.join(sorted(DATASETS))}")


def default_cache_dir():
    """``$XDG_CACHE_HOME/bioplastic/data`` (``~/.cache/bioplastic/data``)."""
    base = os.environ.get("XDG_CACHE_HOME", os.path.expanduser("~/.cache"))
    return Path(base) / "bioplastic" / "data"


def resolve_dir(name, data_dir=None):
    """Folder where the files of dataset ``name`` are (or will be) kept."""
    _check_name(name)
    root = data_dir or os.environ.get("BIOPLASTIC_DATA")
    if root is None:
        return default_cache_dir() / name
    root = Path(root)
    if (root / name).is_dir():
        return root / name
    return root


def sha256_of(path):
    """Hex SHA-256 of a file, read in blocks."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def read_idx(path, expected_count=None):
    """Parse an IDX file (gzip or raw) into a uint8 array, checking its header.

    Raises
    ------
    DatasetError
        If the magic number, dimensions or size are wrong; the message names the file.
    """
    path = Path(path)
    opener = gzip.open if path.suffix == ".gz" else open
    try:
        with opener(path, "rb") as handle:
            data = handle.read()
    except (OSError, EOFError) as exc:
        raise DatasetError(f"{path}: cannot read ({exc})") from None
    if len(data) < 8:
        raise DatasetError(f"{path}: too short for an IDX header ({len(data)} bytes)")
    magic = int.from_bytes(data[:4], "big")
    if magic not in _IDX_MAGIC:
        raise DatasetError(f"{path}: bad IDX magic number {magic} (expected 2049 for "
                           "labels or 2051 for images)")
    ndim = _IDX_MAGIC[magic]
    header = 4 + 4 * ndim
    if len(data) < header:
        raise DatasetError(f"{path}: truncated IDX header")
    dims = [int.from_bytes(data[4 + 4 * k: 8 + 4 * k], "big") for k in range(ndim)]
    if ndim == 3 and dims[1:] != [28, 28]:
        raise DatasetError(f"{path}: images are {dims[1]}x{dims[2]}, expected 28x28")
    expected_bytes = int(np.prod(dims))
    if len(data) - header != expected_bytes:
        raise DatasetError(f"{path}: header announces {dims} ({expected_bytes} bytes of "
                           f"data) but the file holds {len(data) - header}")
    if expected_count is not None and dims[0] != expected_count:
        raise DatasetError(f"{path}: {dims[0]} items, expected {expected_count}")
    array = np.frombuffer(data, dtype=np.uint8, offset=header).reshape(dims)
    if ndim == 1 and array.size and array.max() > 9:
        raise DatasetError(f"{path}: label {int(array.max())} out of range 0..9")
    return array


def download_file(urls, destination, sha256, timeout=60):
    """Download the first URL that yields a file with the given SHA-256.

    The data go to a temporary file next to ``destination`` which is renamed into
    place only after the checksum matched; nothing is left behind on failure.

    Raises
    ------
    DatasetError
        Listing every URL tried and what went wrong with it.
    """
    destination = Path(destination)
    destination.parent.mkdir(parents=True, exist_ok=True)
    failures = []
    for url in urls:
        handle, temporary = tempfile.mkstemp(prefix=destination.name + ".",
                                             suffix=".part", dir=destination.parent)
        try:
            with os.fdopen(handle, "wb") as out, \
                    urllib.request.urlopen(url, timeout=timeout) as response:
                expected_length = response.headers.get("Content-Length")
                shutil.copyfileobj(response, out)
                written = out.tell()
            if expected_length is not None and written != int(expected_length):
                raise DatasetError(f"truncated: received {written} of {expected_length} bytes")
            actual = sha256_of(temporary)
            if actual != sha256:
                raise DatasetError(f"checksum mismatch: SHA-256 {actual}, expected {sha256}")
            os.replace(temporary, destination)
            return destination
        except (OSError, http.client.HTTPException, DatasetError, ValueError) as exc:
            reason = getattr(exc, "reason", None) or exc
            if "IncompleteRead" in type(exc).__name__:
                reason = f"truncated: {exc}"
            failures.append(f"  {url}: {reason}")
        finally:
            if os.path.exists(temporary):
                os.unlink(temporary)
    raise DatasetError(f"could not download {destination.name}; tried:\n" + "\n".join(failures))


def locate_file(name, split, kind, data_dir=None, download=True, mirrors=None):
    """Path of a verified data file, downloading it if needed and allowed."""
    _check_name(name)
    spec = DATASETS[name]["files"][(split, kind)]
    folder = resolve_dir(name, data_dir)
    gz_path, raw_path = folder / spec.name, folder / spec.raw_name
    if gz_path.exists():
        actual = sha256_of(gz_path)
        if actual != spec.sha256_gz:
            raise DatasetError(f"{gz_path}: SHA-256 {actual} does not match the published "
                               f"{spec.sha256_gz}; delete the file to download it again")
        return gz_path
    if raw_path.exists():
        actual = sha256_of(raw_path)
        if actual != spec.sha256_raw:
            raise DatasetError(f"{raw_path}: SHA-256 {actual} does not match the expected "
                               f"{spec.sha256_raw} of the uncompressed file")
        return raw_path
    if not download:
        raise DatasetError(f"{name} {split} {kind}: neither {gz_path} nor {raw_path} "
                           "exists and downloading is disabled")
    urls = [base.rstrip("/") + "/" + spec.name for base in (mirrors or DATASETS[name]["mirrors"])]
    return download_file(urls, gz_path, spec.sha256_gz)


def load_dataset(name, split="train", data_dir=None, download=True, mirrors=None):
    """Load one split of MNIST or Fashion-MNIST.

    Parameters
    ----------
    name : {'mnist', 'fashion-mnist'}
    split : {'train', 'test'}
    data_dir : str or Path, optional
        Folder with the files (or with ``mnist/``/``fashion-mnist/`` subfolders).
    download : bool
        Fetch missing files from the public mirrors.
    mirrors : list of str, optional
        Base URLs to try instead of the canonical mirrors.

    Returns
    -------
    Dataset
    """
    _check_name(name)
    if split not in ("train", "test"):
        raise DatasetError(f"unknown split '{split}': expected 'train' or 'test'")
    files = DATASETS[name]["files"]
    images = read_idx(locate_file(name, split, "images", data_dir, download, mirrors),
                      files[(split, "images")].count)
    labels = read_idx(locate_file(name, split, "labels", data_dir, download, mirrors),
                      files[(split, "labels")].count)
    return Dataset(name, split, images, labels, DATASETS[name]["classes"])
