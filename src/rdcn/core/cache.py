"""Trained models cached under ``data/cache`` (:func:`rdcn.core.paths.cache_dir`), keyed by what made them.

A cache file's name holds a hash of the model's *full* configuration (every size, seed, data description, the
encoder's weights where they are an input) together with the source code of the rdcn modules that made it and
the torch version: a changed parameter or a changed line of code gives a new key, never a stale model.

Files are written atomically (a temporary file renamed into place) and read with ``torch.load(...,
weights_only=True)``: plain containers of tensors and numbers only. A file that cannot be read, or whose contents
do not fit the model, is reported with a warning naming it and then rebuilt, never used.
"""
from __future__ import annotations

import hashlib
import inspect
import json
import os
import socket
import types
import warnings
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import torch
from torch import nn

from . import paths


class CorruptCacheWarning(UserWarning):
    """A cache file could not be used and is being rebuilt."""


def _canonical(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _canonical(v) for k, v in sorted(value.items(), key=lambda kv: str(kv[0]))}
    if isinstance(value, (list, tuple)):
        return [_canonical(v) for v in value]
    if isinstance(value, torch.Tensor):
        data = value.detach().cpu().contiguous()
        return {"tensor": hashlib.sha256(data.numpy().tobytes()).hexdigest(), "shape": list(data.shape),
                "dtype": str(data.dtype)}
    if isinstance(value, (str, int, float, bool)) or value is None:
        return value
    if hasattr(value, "__dataclass_fields__"):  # layer specs
        return {"type": type(value).__name__, **{f: _canonical(getattr(value, f)) for f in value.__dataclass_fields__}}
    raise TypeError(f"cannot put {type(value).__name__} in a cache configuration: {value!r}")


def key(config: dict[str, Any], code: Iterable[types.ModuleType | Callable] = ()) -> str:
    """A hex digest of ``config`` (JSON-like values, tensors by content, layer specs) plus the source text of
    every module or function in ``code`` plus the torch version."""
    digest = hashlib.sha256()
    digest.update(json.dumps(_canonical(config), sort_keys=True).encode())
    digest.update(torch.__version__.encode())
    for item in code:
        digest.update(inspect.getsource(item).encode())
    return digest.hexdigest()[:24]


def path_for(kind: str, digest: str) -> Path:
    """Where the cache file of a ``kind`` (e.g. ``classifier``) with hash ``digest`` lives."""
    if not kind or not kind.replace("_", "").replace("-", "").isalnum():
        raise ValueError(f"cache kind must be a non-empty name of letters, digits, '-' and '_', got {kind!r}")
    return paths.cache_dir() / f"{kind}-{digest}.pt"


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's live process
        return True
    return True


def remove_stale_parts(folder: Path) -> list[Path]:
    """Delete the temporary ``*.part`` files that writers on this host left behind when they were killed (their
    process is gone); parts of live processes, and of other hosts sharing the folder, are left alone."""
    host, removed = socket.gethostname(), []
    for part in folder.glob(f"*.{host}.*.part"):
        pid = part.name.rsplit(".", 2)[-2]
        if pid.isdigit() and not _alive(int(pid)):
            part.unlink(missing_ok=True)
            removed.append(part)
    return removed


def save(path: Path, payload: dict[str, Any]) -> Path:
    """Write ``payload`` to ``path`` atomically: into ``<name>.<host>.<pid>.part``, then renamed, so a crash never
    leaves a half-written file under that name; the part is removed if the write fails, and parts left by killed
    writers are swept (:func:`remove_stale_parts`)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    remove_stale_parts(path.parent)
    part = path.with_name(f"{path.name}.{socket.gethostname()}.{os.getpid()}.part")
    try:
        torch.save(payload, part)
        os.replace(part, path)
    finally:
        part.unlink(missing_ok=True)
    return path


def load(path: Path) -> dict[str, Any] | None:
    """The payload at ``path`` (``weights_only=True``), None if there is none; a file that cannot be read is
    reported (:class:`CorruptCacheWarning`, naming it), deleted, and None returned."""
    if not path.is_file():
        return None
    try:
        payload = torch.load(path, map_location="cpu", weights_only=True)
        if not isinstance(payload, dict):
            raise ValueError(f"expected a dict, found {type(payload).__name__}")
        return payload
    except Exception as error:  # torch raises several types for a damaged file
        discard(path, error)
        return None


def discard(path: Path, error: BaseException | str) -> None:
    """Report an unusable cache file (naming it and why) and delete it so it is rebuilt."""
    warnings.warn(f"cache file {path} is unusable ({error}); rebuilding it", CorruptCacheWarning, stacklevel=3)
    path.unlink(missing_ok=True)


def cached_module(kind: str, config: dict[str, Any], make: Callable[[], nn.Module],
                  build: Callable[[nn.Module], dict[str, Any]],
                  code: Iterable[types.ModuleType | Callable] = ()) -> tuple[nn.Module, dict[str, Any]]:
    """A module whose weights are built once and then read from the cache.

    ``make()`` returns a freshly initialised module; ``build(module)`` trains it in place and returns an ``info``
    dict (numbers and strings). On a cache hit the stored weights and info are loaded into a fresh ``make()``;
    on a miss, or a file that is unreadable or does not fit the module (reported, then rebuilt), ``build`` runs
    and the result is saved. Returns ``(module, info)``; ``info["cache_key"]`` is the key.
    """
    digest = key(config, code)
    path = path_for(kind, digest)
    payload = load(path)
    if payload is not None:
        module = make()
        try:
            module.load_state_dict(payload["state"], strict=True)
            info = dict(payload["info"])
        except Exception as error:
            discard(path, error)
        else:
            return module, info
    module = make()
    info = dict(build(module), cache_key=digest)
    save(path, {"state": module.state_dict(), "info": info, "config": _canonical(config)})
    return module, info
