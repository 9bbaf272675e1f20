"""numpy <-> ``quantamm.v1.Tensor`` (C-order, little-endian bytes)."""

from __future__ import annotations

import numpy as np

from quantamm_api.v1 import types_pb2

_NUMPY_OF = {
    types_pb2.DATA_TYPE_FLOAT64: np.dtype("<f8"),
    types_pb2.DATA_TYPE_FLOAT32: np.dtype("<f4"),
    types_pb2.DATA_TYPE_INT64: np.dtype("<i8"),
    types_pb2.DATA_TYPE_INT32: np.dtype("<i4"),
    types_pb2.DATA_TYPE_BOOL: np.dtype("?"),
}
_PROTO_OF = {dtype.kind + str(dtype.itemsize): code for code, dtype in _NUMPY_OF.items()}


class TensorError(ValueError):
    """A Tensor message is malformed; ``field`` names the request field."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field


def to_tensor(array: np.typing.ArrayLike) -> types_pb2.Tensor:
    """A numpy array (float64 by default for Python floats) as a Tensor."""
    array = np.asarray(array)
    key = array.dtype.kind + str(array.dtype.itemsize)
    if key not in _PROTO_OF:
        array = array.astype(np.float64)
        key = "f8"
    dtype = _NUMPY_OF[_PROTO_OF[key]]
    data = np.ascontiguousarray(array, dtype=dtype).tobytes()
    return types_pb2.Tensor(shape=list(array.shape), dtype=_PROTO_OF[key], data=data)


def from_tensor(tensor: types_pb2.Tensor, field: str = "tensor") -> np.ndarray:
    """A Tensor as a read-only numpy array; TensorError names ``field`` when it is malformed."""
    if tensor.dtype not in _NUMPY_OF:
        raise TensorError(field, f"unsupported or unset dtype {tensor.dtype}")
    if any(size < 0 for size in tensor.shape):
        raise TensorError(field, f"negative size in shape {list(tensor.shape)}")
    dtype = _NUMPY_OF[tensor.dtype]
    count = int(np.prod(tensor.shape, dtype=np.int64)) if tensor.shape else 1
    if len(tensor.data) != count * dtype.itemsize:
        raise TensorError(
            field,
            f"{len(tensor.data)} bytes do not match shape {list(tensor.shape)} of "
            f"{dtype.name} ({count * dtype.itemsize} bytes expected)",
        )
    return np.frombuffer(tensor.data, dtype=dtype).reshape(tuple(tensor.shape))
