"""openpi-client's wire format: msgpack, with numpy arrays packed as small maps.

An array travels as ``{b"__ndarray__": True, b"data": <raw bytes>, b"dtype": "<f4",
b"shape": [..]}`` and a numpy scalar as ``{b"__npgeneric__": True, b"data": <item>,
b"dtype": ..}``, exactly as ``openpi_client.msgpack_numpy`` writes them, so either side may be
openpi's own code. Written here rather than imported because openpi-client pins numpy < 2.
Object, void and complex dtypes are refused: the format has no safe encoding for them (no
pickle, ever).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from vla_bench.errors import VlaBenchError
from vla_bench.extras import require

_REFUSED_KINDS = ("V", "O", "c")


class CodecError(VlaBenchError, ValueError):
    """Bytes that are not a message of this format, or a value it cannot carry."""


def _msgpack() -> Any:
    require("msgpack", extra="serve", purpose="policy serving (the msgpack wire format)")
    import msgpack

    return msgpack


def _encode(obj: Any) -> Any:
    if isinstance(obj, (np.ndarray, np.generic)) and obj.dtype.kind in _REFUSED_KINDS:
        raise CodecError(f"cannot send a numpy array of dtype {obj.dtype} (object, void and "
                         "complex arrays have no encoding in this format)")
    if isinstance(obj, np.ndarray):
        # tobytes() is C order whatever the layout, which is what the shape describes.
        return {b"__ndarray__": True, b"data": obj.tobytes(), b"dtype": obj.dtype.str,
                b"shape": list(obj.shape)}
    if isinstance(obj, np.generic):
        return {b"__npgeneric__": True, b"data": obj.item(), b"dtype": obj.dtype.str}
    raise CodecError(f"cannot send a {type(obj).__name__} (msgpack types and numpy arrays only)")


def _decode(obj: dict) -> Any:
    if b"__ndarray__" in obj:
        try:
            return np.ndarray(buffer=obj[b"data"], dtype=np.dtype(obj[b"dtype"]),
                              shape=tuple(obj[b"shape"]))
        except (KeyError, TypeError, ValueError) as exc:
            raise CodecError(f"malformed array in message: {exc}") from exc
    if b"__npgeneric__" in obj:
        try:
            return np.dtype(obj[b"dtype"]).type(obj[b"data"])
        except (KeyError, TypeError, ValueError) as exc:
            raise CodecError(f"malformed numpy scalar in message: {exc}") from exc
    return obj


def packb(obj: Any) -> bytes:
    """``obj`` (dicts, lists, str, numbers, numpy arrays and scalars) as one message."""
    msgpack = _msgpack()
    try:
        return msgpack.packb(obj, default=_encode)
    except CodecError:
        raise
    except (TypeError, ValueError, OverflowError) as exc:
        raise CodecError(f"cannot encode message: {exc}") from exc


def unpackb(data: bytes) -> Any:
    """The value of one message. Arrays come back read-only views of ``data``."""
    msgpack = _msgpack()
    try:
        return msgpack.unpackb(data, object_hook=_decode, strict_map_key=False)
    except CodecError:
        raise
    except (msgpack.ExtraData, msgpack.FormatError, msgpack.StackError, ValueError,
            TypeError) as exc:
        raise CodecError(f"not a msgpack message ({type(exc).__name__}: {exc})") from exc
