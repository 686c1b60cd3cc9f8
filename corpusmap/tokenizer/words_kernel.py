r"""Compiled ``words`` tokenizer: ``WORD_RE.findall`` byte by byte, plus vocabulary lookup.

It yields exactly the tokens of ``r"\w+(?:['’]\w+)*|[^\w\s]"`` (``re``, Unicode),
each as its vocabulary id or the unknown id, with no Python string per token.

* Input: UTF-8 (``encode("utf-8", "surrogatepass")``: even lone surrogates pass),
  documents concatenated with offsets, then ``PAD``, so an 8-byte load at any token
  start stays in bounds. ``encode_many`` takes the documents in parallel (``prange``).
* Classes (word = ``\w``, space = ``\s``, other): one byte per code point (1.1 MB),
  made once per process by running ``re`` itself over all code points, so it is
  ``re``'s own definition. A byte table answers ASCII and flags multi-byte leads.
* Scan, as the regex does: skip space; an "other" character is a token; a word
  character starts a run of word characters that goes on across ``'`` or ``’`` only
  when a word character follows. Greedy matching never backs off here, so one pass
  with one character of look-ahead finds the regex's tokens.
* Lookup: open addressing, linear probing, load <= 1/2. A token's key is its first
  7 bytes with its length (capped at 255) in the top byte; the home slot hashes the
  key and any further bytes. A slot holds the key (0 = empty) and ``id << 32 |
  offset``. Equal keys settle tokens up to 7 bytes (most words: one cache line); a
  longer one is also compared with the word's copy at ``offset`` among the long
  words, each ended by 0xFF (never in UTF-8). No collision can give a wrong id.
* Output: ids go to scratch as long as the document (at most one token a byte),
  then into one int64 array with offsets. ``count_tokens``: same scan, growing table.
* Token loops have ``_nrt=False``: reference counting would about double the time.
"""

from __future__ import annotations

import re
import sys
from functools import cache

import numba
import numpy as np
from llvmlite import ir
from numba import prange
from numba.core import types
from numba.extending import intrinsic

assert sys.byteorder == "little", "token keys assume little-endian 8-byte loads"

OTHER, WORD, SPACE, WIDE = 0, 1, 2, 3
_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_S32 = np.uint64(32)
PAD = bytes(8)  # every buffer ends with these, so an 8-byte load at any token start is in bounds


@cache
def char_classes() -> np.ndarray:
    """Class (OTHER/WORD/SPACE) of every code point, as ``re`` sees it (~0.1 s, once)."""
    every = np.arange(0x110000, dtype=np.uint32).tobytes().decode("utf-32-le", "surrogatepass")
    cls = np.full(0x110000, OTHER, dtype=np.uint8)
    for pattern, value in ((r"\w+", WORD), (r"\s+", SPACE)):
        for m in re.finditer(pattern, every):
            cls[m.start() : m.end()] = value
    cls.flags.writeable = False
    return cls


@cache
def byte_classes() -> np.ndarray:
    """Class of each byte value: ASCII as ``char_classes``, WIDE for the rest."""
    return np.concatenate((char_classes()[:128], np.full(128, WIDE, dtype=np.uint8)))


@numba.njit(cache=True, inline="always")
def _wide(buf, i, cls):  # type: ignore[no-untyped-def]
    """(class, length in bytes) of the multi-byte UTF-8 character starting at ``buf[i]``."""
    b = np.int64(buf[i])
    if b < 0xE0:
        return cls[((b & 0x1F) << 6) | (np.int64(buf[i + 1]) & 0x3F)], 2
    if b < 0xF0:
        cp = ((b & 0x0F) << 12) | ((np.int64(buf[i + 1]) & 0x3F) << 6)
        return cls[cp | (np.int64(buf[i + 2]) & 0x3F)], 3
    cp = ((b & 0x07) << 18) | ((np.int64(buf[i + 1]) & 0x3F) << 12)
    cp |= ((np.int64(buf[i + 2]) & 0x3F) << 6) | (np.int64(buf[i + 3]) & 0x3F)
    return cls[cp], 4


@numba.njit(cache=True, inline="always")
def _token(buf, i, e, asc, cls):  # type: ignore[no-untyped-def]
    """Byte span ``(start, end)`` of the first token in ``buf[i:e]``; ``(e, e)`` if none."""
    while i < e:
        c, n = asc[buf[i]], 1
        if c == WIDE:
            c, n = _wide(buf, i, cls)
        if c == SPACE:
            i += n
            continue
        s = i
        i += n
        if c != WORD:
            return s, i
        while i < e:
            b = buf[i]
            c = asc[b]
            if c == WORD:
                i += 1
                continue
            if c == WIDE:
                c, n = _wide(buf, i, cls)
                if c == WORD:
                    i += n
                    continue
            curly = b == 0xE2 and i + 3 < e and buf[i + 1] == 0x80 and buf[i + 2] == 0x99
            m = 1 if b == 0x27 else 3 if curly else 0  # bytes of ' or ’ (which may join runs)
            if m == 0 or i + m >= e:
                break
            c = asc[buf[i + m]]
            if c == WIDE:
                c, n = _wide(buf, i + m, cls)
            if c != WORD:
                break
            i += m  # the word character after it comes next round
        return s, i
    return e, e


@intrinsic
def _load8(typingctx, arr, i):  # type: ignore[no-untyped-def]
    """The 8 bytes ``arr[i:i+8]`` as one little-endian uint64 (an unaligned load)."""

    def codegen(context, builder, sig, args):  # type: ignore[no-untyped-def]
        data = context.make_array(sig.args[0])(context, builder, args[0]).data
        ptr = builder.bitcast(builder.gep(data, [args[1]]), ir.IntType(64).as_pointer())
        return builder.load(ptr, align=1)

    return types.uint64(arr, i), codegen


@numba.njit(cache=True, inline="always")
def _low(w, n):  # type: ignore[no-untyped-def]
    """The low ``n`` (< 8) bytes of ``w``."""
    return w & ((np.uint64(1) << np.uint64(8 * n)) - np.uint64(1))


@numba.njit(cache=True, inline="always")
def _key(buf, s, n):  # type: ignore[no-untyped-def]
    """First 7 bytes of ``buf[s:s+n]``, length (capped at 255) in the top byte; never 0."""
    return _low(_load8(buf, s), min(n, 7)) | (np.uint64(min(n, 255)) << np.uint64(56))


@numba.njit(cache=True, inline="always")
def _home(buf, s, n, key, shift):  # type: ignore[no-untyped-def]
    """Home slot: the key (and any bytes after the 7th, 7 at a time), hashed to the top bits."""
    h = key * _GOLDEN
    for p in range(s + 7, s + n, 7):
        h = (h ^ (h >> _S32) ^ _low(_load8(buf, p), min(s + n - p, 7))) * _GOLDEN
    return np.int64(h >> shift)


@numba.njit(cache=True, inline="always")
def _shift(cap):  # type: ignore[no-untyped-def]
    """``64 - log2(cap)``: shifting a 64-bit hash right by it leaves a slot of ``cap``."""
    return np.uint64(64 - int(np.log2(cap)))


@numba.njit(cache=True, inline="always")
def _same(a, sa, b, sb, n):  # type: ignore[no-untyped-def]
    for p in range(n):  # noqa: SIM110 (a loop compiles to the early exit)
        if a[sa + p] != b[sb + p]:
            return False
    return True


@numba.njit(cache=True)
def build_table(wbytes, woff, ids):  # type: ignore[no-untyped-def]
    """(slot table, bytes of the long words) for distinct words ``wbytes[woff[k]:woff[k+1]]``
    with ids ``ids[k]``; the table has a power-of-two ``cap >= 16`` slots, 2 words each."""
    n, cap = ids.shape[0], 16
    while cap < 2 * n:
        cap *= 2
    shift, mask = _shift(cap), cap - 1
    table = np.zeros(2 * cap, dtype=np.uint64)
    longs = np.empty(woff[n] + n, dtype=np.uint8)
    m = 0
    for k in range(n):
        s, w = woff[k], woff[k + 1] - woff[k]
        key = _key(wbytes, s, w)
        j = _home(wbytes, s, w, key, shift)
        while table[2 * j] != 0:
            j = (j + 1) & mask
        table[2 * j] = key
        table[2 * j + 1] = (np.uint64(ids[k]) << _S32) | np.uint64(m)
        if w > 7:
            longs[m : m + w] = wbytes[s : s + w]
            longs[m + w] = 0xFF
            m += w + 1
    return table, longs[:m].copy()


@numba.njit(cache=True, inline="always")
def _lookup(buf, s, e, table, longs, shift, unknown):  # type: ignore[no-untyped-def]
    n = e - s
    key = _key(buf, s, n)
    j = _home(buf, s, n, key, shift)
    mask = (table.shape[0] >> 1) - 1
    while True:
        k = table[2 * j]
        if k == 0:
            return unknown
        if k == key:
            v = table[2 * j + 1]
            o = np.int64(v & np.uint64(0xFFFFFFFF))
            if n <= 7 or (_same(longs, o + 7, buf, s + 7, n - 7) and longs[o + n] == 0xFF):
                return np.uint32(v >> _S32)
        j = (j + 1) & mask


@numba.njit(cache=True, _nrt=False)  # type: ignore[call-overload]  # private numba flag: no runtime
def _encode_into(buf, s, e, asc, cls, table, longs, unknown, out):  # type: ignore[no-untyped-def]
    """Ids of the tokens of ``buf[s:e]`` written to ``out[s:]``; returns how many."""
    shift, unk = _shift(table.shape[0] >> 1), np.uint32(unknown)
    k, i = s, s
    while i < e:
        a, i = _token(buf, i, e, asc, cls)
        if a < i:
            out[k] = _lookup(buf, a, i, table, longs, shift, unk)
            k += 1
    return k - s


@numba.njit(cache=True)
def encode_one(buf, e, asc, cls, table, longs, unknown):  # type: ignore[no-untyped-def]
    """Token ids (int64) of one UTF-8 document ``buf[:e]``."""
    tmp = np.empty(e, dtype=np.uint32)
    k = _encode_into(buf, 0, e, asc, cls, table, longs, unknown, tmp)
    return tmp[:k].astype(np.int64)


@numba.njit(cache=True, parallel=True)
def encode_many(buf, doff, asc, cls, table, longs, unknown):  # type: ignore[no-untyped-def]
    """Ids of documents ``buf[doff[d]:doff[d+1]]``: flat int64 ids and per-document offsets."""
    nd = doff.shape[0] - 1
    tmp = np.empty(buf.shape[0], dtype=np.uint32)
    cnt = np.zeros(nd + 1, dtype=np.int64)
    for d in prange(nd):
        cnt[d + 1] = _encode_into(buf, doff[d], doff[d + 1], asc, cls, table, longs, unknown, tmp)
    toff = np.cumsum(cnt)
    out = np.empty(toff[nd], dtype=np.int64)
    for d in prange(nd):
        out[toff[d] : toff[d + 1]] = tmp[doff[d] : doff[d] + toff[d + 1] - toff[d]]
    return out, toff


@numba.njit(cache=True, _nrt=False)  # type: ignore[call-overload]  # private numba flag: no runtime
def _count_run(buf, i, e, asc, cls, keys, slot, start, end, count, nu):  # type: ignore[no-untyped-def]
    """Count the tokens of ``buf[i:e]`` into the table until it is half full; ``(i, nu)``."""
    shift, mask = _shift(keys.shape[0]), keys.shape[0] - 1
    while i < e and 2 * nu < keys.shape[0]:
        a, i = _token(buf, i, e, asc, cls)
        if a == i:
            break
        n = i - a
        key = _key(buf, a, n)
        j = _home(buf, a, n, key, shift)
        while keys[j] != 0:
            if keys[j] == key:
                u = slot[j]
                if n <= 7 or (end[u] - start[u] == n and _same(buf, start[u], buf, a, n)):
                    break
            j = (j + 1) & mask
        if keys[j] != 0:
            count[slot[j]] += 1
        else:
            start[nu], end[nu], count[nu] = a, i, 1
            keys[j], slot[j] = key, nu
            nu += 1
    return i, nu


@numba.njit(cache=True, _nrt=False)  # type: ignore[call-overload]  # private numba flag: no runtime
def _reinsert(buf, keys, slot, start, end, nu):  # type: ignore[no-untyped-def]
    shift, mask = _shift(keys.shape[0]), keys.shape[0] - 1
    for u in range(nu):
        key = _key(buf, start[u], end[u] - start[u])
        j = _home(buf, start[u], end[u] - start[u], key, shift)
        while keys[j] != 0:
            j = (j + 1) & mask
        keys[j], slot[j] = key, u


@numba.njit(cache=True)
def count_tokens(buf, e, asc, cls):  # type: ignore[no-untyped-def]
    """Distinct tokens of ``buf[:e]`` (first span ``start, end``) and how often each occurs."""
    cap, nu, i = 1024, 0, 0
    keys, slot = np.zeros(cap, dtype=np.uint64), np.zeros(cap, dtype=np.int64)
    start, end, count = np.empty(512, np.int64), np.empty(512, np.int64), np.empty(512, np.int64)
    while True:
        i, nu = _count_run(buf, i, e, asc, cls, keys, slot, start, end, count, nu)
        if i >= e:
            return start[:nu], end[:nu], count[:nu]
        cap *= 2  # half full: double everything
        keys, slot = np.zeros(cap, dtype=np.uint64), np.zeros(cap, dtype=np.int64)
        _reinsert(buf, keys, slot, start, end, nu)
        more = np.empty(cap // 2 - nu, dtype=np.int64)
        start, end = np.concatenate((start, more)), np.concatenate((end, more))
        count = np.concatenate((count, more))
