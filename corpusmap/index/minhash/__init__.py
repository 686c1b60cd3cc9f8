"""MinHash near-duplicate index: signatures, LSH bands on disk, queries, corpus clusters.

Files, in the order data flows: ``signature.py`` (compiled, datasketch-compatible
MinHash of token-id shingles) -> ``lsh.py`` (band/row split and bucket hashes)
-> ``store.py`` (Parquet layout, reading signatures back) -> ``build.py``
(``build_minhash`` at index build time; ``side_folder.py``: ``build_minhash_for`` any
opened index, infini-gram too, into a folder beside it) -> ``query.py`` (``near_duplicates``:
one DuckDB join per batch) -> ``dups.py`` (clusters inside the corpus) ->
``verify.py``, ``compat.py`` (datasketch objects), ``exact.py`` (the exact
reference) and ``cli.py`` (``corpusmap index near-dups`` / ``dups``).
"""

from corpusmap.index.minhash.build import build_minhash
from corpusmap.index.minhash.datasketch_compat import to_datasketch
from corpusmap.index.minhash.dups import duplicate_counts, self_duplicates
from corpusmap.index.minhash.query import near_duplicates
from corpusmap.index.minhash.side_folder import build_minhash_for
from corpusmap.index.minhash.signature import shingle_hashes, signatures, signatures_of
from corpusmap.index.minhash.verify import verify_minhash

__all__ = [
    "build_minhash",
    "build_minhash_for",
    "duplicate_counts",
    "near_duplicates",
    "self_duplicates",
    "shingle_hashes",
    "signatures",
    "signatures_of",
    "to_datasketch",
    "verify_minhash",
]
