"""Stored Merkle-tree hashes in tiles (``LogTile``), and the tree arithmetic over them.

A tile (level t, index k) holds tree levels 8t .. 8t+7 under 256 bottom positions: the ``width``
bottom hashes, then the width//2 hashes of the next level up, and so on. A full tile's root is one
bottom hash of tile (t+1, k//256). Every complete subtree of the tree is therefore one 32-byte
slice of one row: an inclusion or consistency proof over ten million leaves reads at most a few
rows, and appending rewrites only the right-edge tile of each level (``append``).
"""

from __future__ import annotations

import bisect
import hashlib
import struct
from collections.abc import Iterable, Sequence

from django.db import connection

from custodia.audit import merkle

HEIGHT = 8
WIDTH = 1 << HEIGHT
H = 32
_sha256 = hashlib.sha256


def build_rows(bottom: bytes) -> bytes:
    """A tile's stored bytes from its bottom row: the bottom, then each level above (8 levels)."""
    rows, row = [bottom], bottom
    for _ in range(HEIGHT - 1):
        n = len(row) // (2 * H)
        if not n:
            break
        row = b"".join(_sha256(b"\x01" + row[i:i + 2 * H]).digest() for i in range(0, n * 2 * H, 2 * H))
        rows.append(row)
    return b"".join(rows)


def full_tile_root(blob: bytes) -> bytes:
    """The root of a full tile (its two level-7 hashes are the blob's last 64 bytes)."""
    return _sha256(b"\x01" + blob[-2 * H:]).digest()


def row_offset(width: int, j: int) -> int:
    return H * sum(width >> r for r in range(j))


def locate(node: merkle.NodeId) -> tuple[tuple[int, int], int, int]:
    """Where a node lives: ((tile level, tile index), row j, position in the row)."""
    level, index = node
    t, j = divmod(level, HEIGHT)
    shift = HEIGHT - j
    return (t, index >> shift), j, index & ((1 << shift) - 1)


def node_in(blob: bytes, width: int, j: int, p: int) -> bytes | None:
    if p >= width >> j:
        return None
    start = row_offset(width, j) + p * H
    return bytes(blob[start:start + H])


class Tiles:
    """Read access to stored tiles, with a cache of the rows read or written in this unit of work."""

    def __init__(self):
        self.cache: dict[tuple[int, int], tuple[int, bytes]] = {}

    def load(self, keys: Iterable[tuple[int, int]]) -> None:
        """Read the tiles not cached yet, in one query (a proof needs a few, on several levels)."""
        missing = sorted({k for k in keys if k not in self.cache})
        if not missing:
            return
        with connection.cursor() as cursor:
            for chunk in _chunks(missing, 400):
                where = " OR ".join(['(level = %s AND "index" = %s)'] * len(chunk))
                cursor.execute(f'SELECT level, "index", width, hashes FROM audit_logtile WHERE {where}',
                               [value for key in chunk for value in key])
                for level, index, width, blob in cursor.fetchall():
                    self.cache[(level, index)] = (width, bytes(blob))

    def nodes(self, ids: Sequence[merkle.NodeId]) -> list[bytes]:
        """The hashes of complete subtrees; KeyError names a node the store does not have."""
        places = [locate(node) for node in ids]
        self.load(place[0] for place in places)
        out = []
        for node, (key, j, p) in zip(ids, places, strict=True):
            width, blob = self.cache.get(key, (0, b""))
            value = node_in(blob, width, j, p)
            if value is None:
                raise KeyError(f"node {node} is not stored (tile {key})")
            out.append(value)
        return out

    def root(self, size: int) -> bytes:
        return merkle.fold_root(self.nodes(merkle.root_nodes(size)))

    def inclusion_proof(self, index: int, size: int) -> list[bytes]:
        plan = merkle.inclusion_nodes(index, size)
        return plan.rehash(self.nodes(plan.ids))

    def consistency_proof(self, size1: int, size2: int) -> list[bytes]:
        plan = merkle.consistency_nodes(size1, size2)
        return plan.rehash(self.nodes(plan.ids))


def _chunks(items: list, n: int):
    for i in range(0, len(items), n):
        yield items[i:i + n]


_UPSERT = ('INSERT INTO audit_logtile (level, "index", width, hashes, first_seq, seqs) VALUES (%s, %s, %s, %s, %s, %s) '
           'ON CONFLICT (level, "index") DO UPDATE SET width = excluded.width, hashes = excluded.hashes, '
           'first_seq = excluded.first_seq, seqs = excluded.seqs')


def append(tiles: Tiles, size: int, leaf_hashes: Sequence[bytes], seqs: Sequence[int]) -> int:
    """Append leaves (their hashes and their events' ``seq``) to a tree of ``size`` leaves, writing
    the changed tiles. Runs inside the sequencer's transaction. Returns the new size."""
    entries: bytes = b"".join(leaf_hashes)
    seq_bytes: bytes = struct.pack(f">{len(seqs)}q", *seqs)
    start, t, rows = size, 0, []
    while entries:
        k = start >> HEIGHT
        offset = start & (WIDTH - 1)
        head, head_seqs = b"", b""
        if offset:
            tiles.load([(t, k)])
            width, blob = tiles.cache[(t, k)]
            if width != offset:
                raise RuntimeError(f"tile ({t}, {k}) has width {width}, expected {offset}: the log's tiles are damaged")
            head = blob[:width * H]
            if t == 0:
                head_seqs = tile_seqs(k)
        bottom = head + entries
        all_seqs = head_seqs + seq_bytes if t == 0 else b""
        parents = []
        for i in range(0, len(bottom), WIDTH * H):
            chunk = bottom[i:i + WIDTH * H]
            blob = build_rows(chunk)
            width = len(chunk) // H
            tiles.cache[(t, k)] = (width, blob)
            if t == 0:
                s = all_seqs[(i // H) * 8:(i // H + width) * 8]
                rows.append((t, k, width, blob, struct.unpack(">q", s[:8])[0], s))
            else:
                rows.append((t, k, width, blob, None, None))
            if width == WIDTH:
                parents.append(full_tile_root(blob))
            k += 1
        entries, seq_bytes = b"".join(parents), b""
        start >>= HEIGHT
        t += 1
    with connection.cursor() as cursor:
        cursor.executemany(_UPSERT, rows)
    return size + len(leaf_hashes)


def tile_seqs(k: int) -> bytes:
    """The stored ``seqs`` of level-0 tile ``k`` (8 bytes a leaf), or b"" when there is none."""
    with connection.cursor() as cursor:
        cursor.execute('SELECT seqs FROM audit_logtile WHERE level = 0 AND "index" = %s', [k])
        row = cursor.fetchone()
    return bytes(row[0]) if row and row[0] is not None else b""


def leaf_seqs(blob_seqs: bytes) -> tuple[int, ...]:
    return struct.unpack(f">{len(blob_seqs) // 8}q", blob_seqs)


def leaf_indexes(seqs: Iterable[int]) -> dict[int, int]:
    """seq -> leaf index of the events among ``seqs`` that are in the log (pending ones are left
    out). One indexed lookup per level-0 tile touched: a page of recent events is one or two."""
    found: dict[int, int] = {}
    loaded: list[tuple[int, tuple[int, ...]]] = []  # (tile index, the seqs of its leaves)
    with connection.cursor() as cursor:
        for seq in sorted(set(seqs), reverse=True):
            tile = next((t for t in loaded if t[1] and t[1][0] <= seq <= t[1][-1]), None)
            if tile is None:
                cursor.execute('SELECT "index", seqs FROM audit_logtile WHERE level = 0 AND first_seq <= %s '
                               'ORDER BY first_seq DESC LIMIT 1', [seq])
                row = cursor.fetchone()
                if row is None or row[1] is None:
                    continue
                tile = (row[0], leaf_seqs(bytes(row[1])))
                loaded.append(tile)
            position = bisect.bisect_left(tile[1], seq)
            if position < len(tile[1]) and tile[1][position] == seq:
                found[seq] = tile[0] * WIDTH + position
    return found


def leaf_index_of(seq: int) -> int | None:
    """The leaf index of the event with ``seq``, or None when it is not (yet) in the log."""
    return leaf_indexes([seq]).get(seq)
