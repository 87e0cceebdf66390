"""Write output files safely: atomically for regular files, directly for devices, never half.

- A regular file (or a new one) is written to a temporary file in the same folder and renamed
  over the target, so a failed run leaves the old file as it was and no partial file behind.
  A symbolic link is followed: the file it points at is replaced, not the link.
- A character device (``/dev/stdout``, ``/dev/null``, a terminal) or a FIFO that has a reader is
  written directly: renaming over it would replace the device with a regular file.
- A directory, a socket, a block device or a FIFO nobody reads is refused.
Every failure (no such folder, permission denied, disk full) is an :class:`InputError` naming
the user's path, never the temporary file.
"""

from __future__ import annotations

import errno
import os
import stat
import sys
import tempfile
from pathlib import Path
from typing import Iterable

from threatmodel.core.errors import Diagnostic, InputError, Location


def _fail(path: Path, message: str) -> InputError:
    return InputError([Diagnostic(Location(str(path)), f"cannot write: {message}")])


def _reason(exc: OSError) -> str:
    return {
        errno.ENOSPC: "no space left on the device",
        errno.EACCES: "permission denied",
        errno.EPERM: "permission denied",
        errno.EROFS: "read-only file system",
        errno.EISDIR: "it is a directory",
        errno.ENOTDIR: "a part of the path is not a folder",
        errno.ENOENT: "the folder does not exist",
        errno.ENAMETOOLONG: "the file name is too long",
        errno.ELOOP: "a symbolic link loop",
        errno.EDQUOT: "disk quota exceeded",
    }.get(exc.errno or 0, exc.strerror or str(exc))


def _chunks(text: str | bytes | Iterable[str]) -> Iterable[bytes]:
    if isinstance(text, bytes):
        yield text
    elif isinstance(text, str):
        yield text.encode("utf-8")
    else:
        for chunk in text:
            yield chunk.encode("utf-8")


def write_atomic(path: Path, text: str | bytes | Iterable[str]) -> None:
    """Write ``text`` (a string, bytes, or chunks of a string) to ``path`` (see the module doc)."""
    path = Path(path)
    try:
        info = os.stat(path)
    except FileNotFoundError:
        info = None
    except OSError as exc:
        raise _fail(path, _reason(exc)) from None
    if info is not None and not stat.S_ISREG(info.st_mode):
        _write_special(path, info.st_mode, text)
        return
    target = Path(os.path.realpath(path)) if path.is_symlink() else path
    folder = target.parent if str(target.parent) else Path(".")
    if not folder.is_dir():
        raise _fail(path, f"the folder '{folder}' does not exist" if not folder.exists()
                    else f"'{folder}' is not a folder")
    try:
        handle, temporary = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=folder)
    except OSError as exc:
        raise _fail(path, _reason(exc)) from None
    try:
        os.chmod(temporary, (info.st_mode & 0o777) if info is not None else 0o666 & ~_umask())
        with os.fdopen(handle, "wb") as stream:
            for chunk in _chunks(text):
                stream.write(chunk)
        os.replace(temporary, target)
    except OSError as exc:
        Path(temporary).unlink(missing_ok=True)
        raise _fail(path, _reason(exc)) from None
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def _write_special(path: Path, mode: int, text: str | bytes | Iterable[str]) -> None:
    if stat.S_ISDIR(mode):
        raise _fail(path, "it is a directory; give a file name")
    if not (stat.S_ISCHR(mode) or stat.S_ISFIFO(mode)):
        raise _fail(path, "not a regular file, a character device or a FIFO")
    flags = os.O_WRONLY | getattr(os, "O_NOCTTY", 0) | (os.O_NONBLOCK if stat.S_ISFIFO(mode) else 0)
    try:
        handle = os.open(path, flags)
    except OSError as exc:
        if exc.errno == errno.ENXIO:
            raise _fail(path, "a FIFO that nobody is reading") from None
        raise _fail(path, _reason(exc)) from None
    try:
        if stat.S_ISFIFO(mode):
            os.set_blocking(handle, True)
        with os.fdopen(handle, "wb", closefd=False) as stream:
            for chunk in _chunks(text):
                stream.write(chunk)
            stream.flush()
    except OSError as exc:
        raise _fail(path, _reason(exc)) from None
    finally:
        os.close(handle)


def _umask() -> int:
    current = os.umask(0)
    os.umask(current)
    return current


def emit(text: str | bytes | Iterable[str], output: Path | None) -> None:
    """Write to ``output``, or to standard output when it is None or '-'."""
    if output is None or str(output) == "-":
        try:
            if isinstance(text, bytes):
                sys.stdout.buffer.write(text)
                return
            if not isinstance(text, str):
                sys.stdout.writelines(text)
                return
            sys.stdout.write(text)
            if text and not text.endswith("\n"):
                sys.stdout.write("\n")
            sys.stdout.flush()
        except OSError as exc:
            raise _fail(Path("<standard output>"), _reason(exc)) from None
    else:
        write_atomic(output, text)
