"""How a shard's arrays are laid out, told to the kernels by the arrays' own types.

The query kernels (``kernels``, ``interleaved_search``, ``ngram_runs``) are written
once and read a shard only through ``key`` and ``position`` below. numba compiles
them once per argument type, so each layout gets its own machine code and our own
format runs exactly the code it ran before this module existed:

* tokens, 1-D ``uint8/16/32`` array: suffixes are sorted in token-id order (our
  format; also infini-gram's u8, where byte order is token order). ``key`` is the id.
* tokens, 2-D ``uint8`` array ``(n, w)``: the raw little-endian bytes of a u16/u32
  token string whose suffixes are sorted *byte-wise* (infini-gram). ``key`` is the
  big-endian reading of the ``w`` bytes, so comparing keys compares bytes; it is the
  id with its bytes swapped, and swapping again gives the id back (``to_keys``).
* suffix array, 1-D integer array: entry ``m`` is a token position (our u32 format;
  infini-gram u8 whose pointer width is 1, 2, 4 or 8 bytes, where a byte offset is a
  token position).
* suffix array, 2-D ``uint8`` array ``(n, k)``: ``k``-byte little-endian *byte
  offsets* (infini-gram: ``k`` follows from the file size; 5 bytes for 10^12 tokens);
  divided by the token width when tokens are 2-D.

Queries handed to the kernels are in key space (``to_keys``) and ids read back are
turned back (``from_keys``); for 1-D tokens both return their input unchanged.
What it leaves out: infini-gram's reversed (v5) indexes, whose suffixes are of the
reversed documents.
"""

from __future__ import annotations

import numpy as np
from llvmlite import ir
from numba import types
from numba.core import cgutils
from numba.extending import intrinsic, overload


@intrinsic
def prefetch(typingctx, arr, idx):  # type: ignore[no-untyped-def]
    """Hint the CPU to load element ``idx`` of ``arr``'s flat data (``llvm.prefetch``)."""

    def codegen(context, builder, signature, args):  # type: ignore[no-untyped-def]
        ary = context.make_array(signature.args[0])(context, builder, args[0])
        i8p = ir.IntType(8).as_pointer()
        i32 = ir.IntType(32)
        fnty = ir.FunctionType(ir.VoidType(), [i8p, i32, i32, i32])
        fn = cgutils.get_or_insert_function(builder.module, fnty, "llvm.prefetch.p0")
        ptr = builder.bitcast(builder.gep(ary.data, [args[1]]), i8p)
        builder.call(fn, [ptr, i32(0), i32(3), i32(1)])  # read, keep in all levels, data
        return context.get_dummy_value()

    return types.void(arr, idx), codegen


def key(tokens, p):  # type: ignore[no-untyped-def]
    """The sort key of the token at position ``p`` (compiled by the overload below)."""
    raise NotImplementedError("only callable from compiled code")


@overload(key)
def _key(tokens, p):  # type: ignore[no-untyped-def]
    if tokens.ndim == 1:
        return lambda tokens, p: np.int64(tokens[p])

    def bytewise(tokens, p):  # type: ignore[no-untyped-def]
        v = np.int64(0)
        for b in range(tokens.shape[1]):
            v = (v << 8) | np.int64(tokens[p, b])
        return v

    return bytewise


def position(sa, tokens, m):  # type: ignore[no-untyped-def]
    """The token position suffix-array entry ``m`` points at (compiled below)."""
    raise NotImplementedError("only callable from compiled code")


@overload(position)
def _position(sa, tokens, m):  # type: ignore[no-untyped-def]
    if sa.ndim == 1:
        return lambda sa, tokens, m: np.int64(sa[m])
    shift = 0 if tokens.ndim == 1 else 1  # 2-D tokens: w bytes each, w in (2, 4)

    def byte_offset(sa, tokens, m):  # type: ignore[no-untyped-def]
        v = np.int64(0)
        for b in range(sa.shape[1] - 1, -1, -1):  # little-endian bytes
            v = (v << 8) | np.int64(sa[m, b])
        if shift:
            v = v >> (tokens.shape[1] >> 1)  # w = 2 -> 1, w = 4 -> 2
        return v

    return byte_offset


def flat_index(arr, m):  # type: ignore[no-untyped-def]
    """Index of row ``m``'s first element in ``arr``'s flat data (for ``prefetch``)."""
    raise NotImplementedError("only callable from compiled code")


@overload(flat_index)
def _flat_index(arr, m):  # type: ignore[no-untyped-def]
    if arr.ndim == 1:
        return lambda arr, m: m
    return lambda arr, m: m * arr.shape[1]


# ---- the same readings in numpy, for the Python side of the index ----------------------
def positions(sa: np.ndarray, tokens: np.ndarray, lo: int, hi: int) -> np.ndarray:
    """Token positions of suffix-array entries ``lo:hi`` (int64)."""
    return positions_at(sa, tokens, np.arange(lo, hi, dtype=np.int64))


def positions_at(sa: np.ndarray, tokens: np.ndarray, idx: np.ndarray) -> np.ndarray:
    """Token positions of the suffix-array entries ``idx`` (int64)."""
    block = sa[idx]
    if block.ndim == 1:
        return block.astype(np.int64)
    wide = np.zeros((block.shape[0], 8), dtype=np.uint8)
    wide[:, : block.shape[1]] = block
    out = wide.view("<u8").reshape(-1).astype(np.int64)
    return out // tokens.shape[1] if tokens.ndim == 2 else out


def token_ids(tokens: np.ndarray, start: int, stop: int) -> np.ndarray:
    """Token ids at positions ``start:stop`` (int64)."""
    block = tokens[start:stop]
    if block.ndim == 1:
        return block.astype(np.int64)
    return np.ascontiguousarray(block).view(f"<u{block.shape[1]}").reshape(-1).astype(np.int64)


def to_keys(tokens: np.ndarray, ids: np.ndarray) -> np.ndarray:
    """Query ids in the shard's key space (``ids`` itself when keys are ids)."""
    if tokens.ndim == 1:
        return ids
    w = tokens.shape[1]
    return np.asarray(ids, dtype=np.int64).astype(f"<u{w}").byteswap().astype(np.int64)


from_keys = to_keys  # swapping bytes twice gives the id back
