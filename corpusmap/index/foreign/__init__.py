"""Index folders written by other tools, opened where they lie (read-only).

``infinigram``: folders written by the infini-gram package's indexer. Detection and
opening go through ``corpusmap.open_index``; side files (a first-token table) live in
a cache folder, never in the foreign folder.
"""
