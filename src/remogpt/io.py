"""Safe file input/output shared by every part: validated .npy loading and atomic writes."""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
import threading
from pathlib import Path
from typing import Iterator

import numpy as np

from .errors import UserInputError


# numpy parses a .npy header with ast.literal_eval, and CPython 3.11's parser is not thread-safe: parses in two
# threads at once (folder.load_many reads files in a thread pool) can fail with "AST constructor recursion depth
# mismatch". Headers are parsed under this lock; the data is then read without parsing again.
_HEADER_LOCK = threading.Lock()


def load_npy(path: str | os.PathLike, *, name: str = "motion") -> np.ndarray:
    """Load a numeric .npy file without pickle, with one clear error for every way it can be wrong."""
    path = Path(path)
    if not path.exists():
        raise UserInputError(f"{name} file '{path}' does not exist.")
    if path.is_dir():
        raise UserInputError(f"{name} path '{path}' is a folder, expected a .npy file.")
    if path.suffix.lower() != ".npy":
        raise UserInputError(f"{name} file '{path}' has extension '{path.suffix}', expected .npy.")
    if path.stat().st_size == 0:
        raise UserInputError(f"{name} file '{path}' is empty.")
    header = _read_npy_header(path, name)
    if header is None:  # a newer header layout: numpy reads it (and checks it) itself
        with _HEADER_LOCK:
            array = _numpy_load(path, name)
    else:
        shape, fortran_order, dtype, offset = header
        if not np.issubdtype(dtype, np.number) or np.issubdtype(dtype, np.complexfloating):
            raise UserInputError(f"{name} file '{path}' holds dtype {dtype}, expected real numbers.")
        count = int(np.prod(shape, dtype=np.int64))
        try:
            array = np.fromfile(path, dtype=dtype, count=count, offset=offset).reshape(shape, order="F" if fortran_order else "C")
        except (ValueError, OSError) as error:
            raise UserInputError(f"{name} file '{path}' is truncated or corrupt ({error}).") from None
    if not isinstance(array, np.ndarray) or not np.issubdtype(array.dtype, np.number) or np.issubdtype(array.dtype, np.complexfloating):
        raise UserInputError(f"{name} file '{path}' holds dtype {array.dtype}, expected real numbers.")
    return array


def _numpy_load(path: Path, name: str) -> np.ndarray:
    try:
        return np.load(path, allow_pickle=False)
    except ValueError as error:  # pickled object arrays, truncated data
        raise UserInputError(f"{name} file '{path}' is not a readable numeric .npy array ({error}).") from None
    except (OSError, EOFError) as error:
        raise UserInputError(f"{name} file '{path}' is truncated or corrupt ({error}).") from None


def _read_npy_header(path: Path, name: str):
    """(shape, fortran order, dtype, data offset) from the header only, or None for a layout numpy must read. A text
    file named .npy, or a shape larger than the file holds, fails here, before any memory is allocated for it."""
    formats = np.lib.format
    try:
        with _HEADER_LOCK, open(path, "rb") as handle:
            version = formats.read_magic(handle)
            read = {(1, 0): formats.read_array_header_1_0, (2, 0): formats.read_array_header_2_0}.get(version)
            if read is None:
                return None
            shape, fortran_order, dtype = read(handle)
            offset = handle.tell()
    except (ValueError, OSError, EOFError, SyntaxError):
        raise UserInputError(f"{name} file '{path}' is not a .npy array file.") from None
    needed = int(np.prod(shape, dtype=np.float64)) * dtype.itemsize
    if offset + needed > path.stat().st_size:
        raise UserInputError(f"{name} file '{path}' declares shape {tuple(shape)} but holds less data; it is truncated or corrupt.")
    return shape, fortran_order, dtype, offset


def check_finite(array: np.ndarray, *, where: str) -> None:
    """Reject NaN and infinity with the first offending frame named."""
    bad = ~np.isfinite(array)
    if bad.any():
        frame = int(np.argwhere(bad)[0][0])
        raise UserInputError(f"{where} contains NaN or infinite values (first at frame {frame}).")


def _current_umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


_UMASK = _current_umask()


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike) -> Iterator[Path]:
    """Yield a temporary path beside `path`; rename it into place only if the block succeeds.

    The temporary name keeps the final suffix so writers that dispatch on it (matplotlib, ffmpeg) work.
    """
    path = Path(path)
    if path.is_dir():
        raise UserInputError(f"'{path}' is a folder; name a file to write.")
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp_path = None
    try:
        with _interrupts_held():  # a kill between creating the temporary file and owning it would leave it behind
            fd, tmp = tempfile.mkstemp(prefix=f".{path.stem}.", suffix=path.suffix, dir=path.parent)
            tmp_path = Path(tmp)
        os.close(fd)
        yield tmp_path
        os.chmod(tmp_path, 0o666 & ~_UMASK)  # mkstemp creates 0600; give the file the usual permissions
        os.replace(tmp_path, path)
    except OSError as error:
        if error.filename is None or tmp_path is None or str(error.filename) == str(tmp_path):  # name the user's file
            raise OSError(error.errno, error.strerror or str(error) or type(error).__name__, str(path)) from None
        raise
    finally:
        if tmp_path is not None and tmp_path.exists():
            tmp_path.unlink()


@contextlib.contextmanager
def _interrupts_held():
    """SIGINT and SIGTERM wait until the block is done (delivered when it ends, inside the caller's try)."""
    import signal

    held = {signal.SIGINT, signal.SIGTERM}
    previous = signal.pthread_sigmask(signal.SIG_BLOCK, held)
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, previous)


def save_npy(path: str | os.PathLike, array: np.ndarray) -> None:
    """Write an array atomically (never a half-written file)."""
    with atomic_path(path) as tmp:
        with open(tmp, "wb") as handle:
            np.save(handle, array)


def save_json(path: str | os.PathLike, obj) -> None:
    with atomic_path(path) as tmp:
        tmp.write_text(json.dumps(obj, indent=2, sort_keys=False) + "\n")


def portable(value):
    """Provenance without the building machine's folders: absolute paths (in nested dicts and lists too) become
    relative to the working folder when inside it, else `.../parent/name`. For records, never for paths that are
    read back."""
    if isinstance(value, dict):
        return {key: portable(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(portable(item) for item in value)
    if isinstance(value, str) and value.startswith("/") and "\n" not in value:
        path = Path(value)
        try:
            return str(path.relative_to(Path.cwd())) or "."
        except ValueError:
            return str(Path("...", *path.parts[-2:]))
    return value
