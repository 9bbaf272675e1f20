"""Checkpoint blobs: named numpy arrays plus JSON metadata in one ``np.savez`` archive (no
pickle, so a blob read back from a shared store cannot run code)."""

from __future__ import annotations

import io
import json
from typing import Any, Mapping

import numpy as np

META = "__meta__"


def pack(arrays: Mapping[str, np.ndarray], meta: Mapping[str, Any]) -> bytes:
    """Arrays (any dtype but object) and JSON-able ``meta`` -> bytes."""
    buffer = io.BytesIO()
    encoded = np.frombuffer(json.dumps(dict(meta)).encode(), dtype=np.uint8)
    np.savez(buffer, **{META: encoded}, **{k: np.asarray(v) for k, v in arrays.items()})
    return buffer.getvalue()


def unpack(blob: bytes) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
    """bytes -> (arrays, meta) as given to ``pack``."""
    with np.load(io.BytesIO(blob), allow_pickle=False) as archive:
        arrays = {key: archive[key] for key in archive.files if key != META}
        meta = json.loads(archive[META].tobytes().decode())
    return arrays, meta


def prefixed(prefix: str, arrays: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
    """{'a': x} -> {'prefix/a': x}."""
    return {f"{prefix}/{key}": value for key, value in arrays.items()}


def unprefixed(prefix: str, arrays: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
    """The entries under ``prefix/``, with the prefix removed."""
    head = prefix + "/"
    return {key[len(head):]: value for key, value in arrays.items() if key.startswith(head)}
