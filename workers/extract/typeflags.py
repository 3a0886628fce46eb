"""What the two decoders (``decoder.TypeTagger`` with C ``_viterbi``, and ``pydecoder.PyDecoder``)
agree on about a token type: its score blocks and its flags.

Its own module so that the pure-Python twin needs nothing of ``decoder``, which loads it.
"""

from __future__ import annotations

#: Score blocks per type: own, as -1, +1, -2, +2 neighbour (weights.TEMPLATES).
NPOS = 5
#: Type flags, as in _viterbi.c: never inside a name, a name may end after it, a hard break.
F_NEVER, F_END_AFTER, F_BREAK = 1, 2, 4
