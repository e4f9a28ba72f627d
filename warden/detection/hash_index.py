"""Finding the nearest PDQ hash among many: every stored hash XORed with the query, bits counted.

Brute force over packed 64-bit words with numpy's popcount (`np.bitwise_count`) is exact and needs no
tuning; bench/bench_image_moderation.py measures it at 10^4 to 10^6 hashes (a blocked image brings
81 hashes: itself and 80 crops). Multi-index hashing (16-bit chunks) would only pay off well beyond that.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from warden.detection.pdq import hex_to_words


@dataclass(frozen=True)
class Nearest:
    #: the owner of the nearest hash (the block list entry's id)
    owner: int
    distance: int
    #: which of the queried hashes it was nearest to
    query: int


class HashIndex:
    def __init__(self, owners: list[int], hexes: list[str]) -> None:
        if len(owners) != len(hexes):
            raise ValueError("one owner per hash")
        self.owners = np.asarray(owners, dtype=np.int64)
        words = (np.frombuffer(bytes.fromhex("".join(hexes)), dtype=">u8").astype(np.uint64).reshape(-1, 4)
                 if hexes else np.zeros((0, 4), dtype=np.uint64))
        # one contiguous column per 64-bit word: four passes over memory, no per-row reduction
        self.columns = [np.ascontiguousarray(words[:, i]) for i in range(4)]

    def __len__(self) -> int:
        return int(self.columns[0].shape[0])

    def distances(self, query: str) -> np.ndarray:
        q = hex_to_words(query)
        total = np.bitwise_count(self.columns[0] ^ q[0]).astype(np.uint16)
        for i in range(1, 4):
            total += np.bitwise_count(self.columns[i] ^ q[i])
        return total

    def nearest(self, queries: list[str]) -> Nearest | None:
        """The stored hash nearest to any of `queries` (None when the index is empty)."""
        if not len(self) or not queries:
            return None
        best: Nearest | None = None
        for position, query in enumerate(queries):
            distances = self.distances(query)
            at = int(distances.argmin())
            if best is None or int(distances[at]) < best.distance:
                best = Nearest(owner=int(self.owners[at]), distance=int(distances[at]), query=position)
        return best
