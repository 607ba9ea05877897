"""Normalised words of the keyword file's entries, computed once per distinct text.

The same keyword, request word or phrase is analysed by the checks, the matcher, the stem index
and the request tier as a file compiles, and again by every reload: remembered here (bounded).
Messages are never analysed through this cache: each is analysed once, where it is classified.
"""

from __future__ import annotations

from functools import lru_cache

from keywords.normalize import Normalized, analyse


@lru_cache(maxsize=65536)
def entry_analysis(text: str) -> Normalized:
    """``analyse`` for an entry of the keyword file."""
    return analyse(text)
