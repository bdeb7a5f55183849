"""Full verification of the audit log: ``custodia audit verify``.

Recomputes every leaf from its event, every stored hash from the leaves, every tree head's root,
signature and consistency with the previous head, and compares the log with the last head the
witnesses hold. Problems are reported in log order, so the first one names the first bad leaf
index or the bad tree head. Reads the tiles one at a time: memory stays small at any size.
"""

from __future__ import annotations

import bisect
import multiprocessing
import os
import struct
import uuid
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field

from django.db import connection, connections

from custodia.audit import heads, leaf, merkle, retention, sequencer, tiles
from custodia.audit.models import LogState, PrunedRange, TreeHead

H = tiles.H
_sha256 = leaf.hashlib.sha256


@dataclass(frozen=True)
class Problem:
    message: str
    leaf_index: int | None = None  # the first leaf this problem concerns
    head_id: int | None = None  # the tree head concerned

    def __str__(self) -> str:
        return self.message


@dataclass
class Report:
    size: int = 0
    root_hash: bytes = merkle.EMPTY_ROOT
    leaves_checked: int = 0
    pruned: int = 0
    pending: int = 0
    heads_checked: int = 0
    published: dict | None = None
    problems: list[Problem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    @property
    def first_bad_leaf(self) -> int | None:
        indexes = [p.leaf_index for p in self.problems if p.leaf_index is not None]
        return min(indexes) if indexes else None

    @property
    def first_bad_head(self) -> int | None:
        ids = [p.head_id for p in self.problems if p.head_id is not None]
        return min(ids) if ids else None


class _Pruned:
    def __init__(self):
        ranges = list(PrunedRange.objects.order_by("start").values_list("start", "end"))
        self.starts = [r[0] for r in ranges]
        self.ends = [r[1] for r in ranges]

    def __contains__(self, index: int) -> bool:
        at = bisect.bisect_right(self.starts, index) - 1
        return at >= 0 and index < self.ends[at]


def verify_log(progress: Callable[[int, int], None] | None = None, max_problems: int = 100,
               attempts: int = 3) -> Report:
    """Verify everything; ``progress(leaves_done, size)`` is called after each tile.

    The sequencer may integrate events while this reads (a running server integrates every
    minute): a report with problems is trusted only when the log did not grow meanwhile, else
    verification runs again (up to ``attempts`` times)."""
    for _attempt in range(attempts):
        before = _log_position()
        report = _verify_once(progress, max_problems)
        if report.ok or _log_position() == before:
            break
    return report


def _log_position() -> tuple[int, int]:
    state = LogState.objects.filter(pk=1).first()
    return (state.size, TreeHead.objects.count()) if state else (0, 0)


def _verify_once(progress, max_problems: int) -> Report:
    state = LogState.objects.filter(pk=1).first()
    report = Report()
    if state is not None:
        report.size, report.root_hash = state.size, bytes(state.root_hash)
    last_seq = state.last_seq if state else 0
    problems = report.problems

    def bad(message: str, leaf_index=None, head_id=None) -> bool:
        problems.append(Problem(message, leaf_index, head_id))
        return len(problems) >= max_problems

    retention.check_pruned_ranges(report.size, bad)
    roots, edge = _verify_leaves(report, last_seq, bad, progress)
    computed_root = _verify_upper_tiles(report, roots, edge, bad)
    # When the stored hashes still give the recorded root, the changed leaf or hash was named above.
    if computed_root is not None and report.root_hash not in (computed_root, _stored_root(report.size)):
        bad(f"the log's recorded root does not match the tree recomputed from its {report.size} leaves")
    _verify_heads(report, bad)
    report.pending = sequencer.pending_count(last_seq)
    return report


def _stored_root(size: int) -> bytes | None:
    try:
        return tiles.Tiles().root(size)
    except KeyError:
        return None


# How stored hashes are blamed. Every tile is recomputed from the true leaves (each leaf hash
# recomputed from its event; the stored one where the body was pruned or is missing) and compared
# with what is stored. A stored hash is wrong when it differs from the recomputed one AND from the
# hash of its own stored children: a node that merely sits above a changed leaf or a changed
# lower hash still matches its children and is not blamed, so the problem is named where it is
# (the leaf, or the lowest changed hash). Nothing goes unseen: the lowest stored hash that differs
# from the recomputed tree always differs from its children too, or it is a leaf and the leaf
# check names it.
@dataclass
class _Roots:
    """The roots of the full tiles of one level: recomputed from the true leaves, and as the
    stored hashes of each tile's top row give them (what the level above must hold)."""
    true: list[bytes] = field(default_factory=list)
    stored: list[bytes] = field(default_factory=list)

    def add(self, true_blob: bytes, stored_blob: bytes) -> None:
        self.true.append(tiles.full_tile_root(true_blob))
        self.stored.append(tiles.full_tile_root(stored_blob))


def _trim(blob: bytes, width: int, new_width: int) -> bytes:
    """The stored rows of a tile of ``width`` cut to its first ``new_width`` bottom positions
    (each row's prefix: the complete subtrees within them)."""
    return b"".join(blob[tiles.row_offset(width, j):tiles.row_offset(width, j) + (new_width >> j) * H]
                    for j in range(tiles.HEIGHT) if new_width >> j)


def _wrong_nodes(width: int, stored: bytes, true: bytes, below: list[bytes] | None) -> list[tuple[int, int]]:
    """(row, position) of the stored hashes that differ both from the recomputed tree and from
    the hash of their stored children (row 0 only in upper tiles: ``below`` are the roots the
    stored tiles underneath give)."""
    out = []
    for j in range(0 if below is not None else 1, tiles.HEIGHT):
        n = width >> j
        if not n:
            break
        offset = tiles.row_offset(width, j)
        for p in range(n):
            at = offset + p * H
            value = stored[at:at + H]
            if value == true[at:at + H]:
                continue
            if j == 0:
                local = below[p]
            else:
                child = tiles.row_offset(width, j - 1) + 2 * p * H
                local = _sha256(b"\x01" + stored[child:child + 2 * H]).digest()
            if value != local:
                out.append((j, p))
    return out


def _pruned_child_to_blame(width: int, blob: bytes, j: int, p: int, first_index: int, pruned) -> int | None:
    """A wrong stored hash just above the leaves is blamed on its child instead when that child is
    the one leaf of the pair whose body was pruned (so its stored hash cannot be recomputed) and
    the pair's own hash still agrees with the stored hash above it: then the leaf hash changed."""
    if j != 1 or (p >> 1) >= (width >> 2):
        return None
    left, right = first_index + 2 * p, first_index + 2 * p + 1
    unverified = [i for i in (left, right) if i in pruned]
    if len(unverified) != 1:
        return None
    row1, row2 = tiles.row_offset(width, 1), tiles.row_offset(width, 2)
    pair = row1 + 2 * (p >> 1) * H
    parent = row2 + (p >> 1) * H
    if _sha256(b"\x01" + blob[pair:pair + 2 * H]).digest() != blob[parent:parent + H]:
        return None
    return unverified[0]


# Verifying more leaves than this uses one process per core for the level-0 tiles (the events'
# canonical forms and hashes are most of the work); smaller logs, and any verification inside an
# open transaction (whose data other processes cannot see), stay in this process.
PARALLEL_FROM = 100_000


@dataclass
class _LeafPart:
    """What checking a run of level-0 tiles found (a worker process's answer)."""

    found: list = field(default_factory=list)  # (leaf index, message), in leaf order
    roots: _Roots = field(default_factory=_Roots)
    edge: tuple[int, bytes] | None = None
    checked: int = 0
    pruned: int = 0
    last_seq: int = 0


def _verify_leaves(report: Report, last_seq: int, bad, progress) -> tuple[_Roots, tuple[int, bytes] | None]:
    """Level-0 tiles against the events. Returns the roots of the full tiles (level 1's bottom)
    and the right-edge partial tile recomputed from its leaves (its width and rows), if any."""
    size = report.size
    tile_count = -(-size // tiles.WIDTH)
    with connection.cursor() as cursor:
        cursor.execute('SELECT count(*) FROM audit_logtile WHERE level = 0 AND "index" >= %s', [tile_count])
        if cursor.fetchone()[0]:
            bad(f"the log has tiles beyond its size of {size} leaves (its tail was truncated)", leaf_index=size)
    workers = min(os.cpu_count() or 1, 4)
    if size >= PARALLEL_FROM and workers > 1 and not connection.in_atomic_block:
        bounds = [tile_count * i // workers for i in range(workers + 1)]
        connections.close_all()  # the workers open their own
        with ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("fork")) as pool:
            parts = list(pool.map(_leaf_range_in_worker, bounds[:-1], bounds[1:], [size] * workers,
                                  [last_seq] * workers))
    else:
        parts = [_leaf_range(0, tile_count, size, last_seq, progress)]
    roots, edge = _Roots(), None
    for part in parts:
        for index, message in part.found:
            if bad(message, leaf_index=index):
                return roots, None
        roots.true.extend(part.roots.true)
        roots.stored.extend(part.roots.stored)
        edge = part.edge or edge
        report.leaves_checked += part.checked
        report.pruned += part.pruned
    previous_last = parts[-1].last_seq if parts else 0
    if previous_last != last_seq and size:
        # Integrated events past the last leaf would have been leaves from ``size`` on.
        bad(f"the log says it integrated events up to seq {last_seq}, its last leaf is seq {previous_last}",
            leaf_index=size if last_seq > previous_last else size - 1)
    return roots, edge


def _leaf_range_in_worker(k_start: int, k_end: int, size: int, last_seq: int) -> _LeafPart:
    try:
        return _leaf_range(k_start, k_end, size, last_seq, None)
    finally:
        connections.close_all()


@contextmanager
def _fast_cursor():
    """A cursor for reading a million rows, and its parameter mark. On SQLite, the driver's own
    cursor (Django's wrapper costs a quarter of the fetch) over a memory-mapped file."""
    if connection.vendor != "sqlite":
        with connection.cursor() as cursor:
            yield cursor, "%s"
        return
    connection.ensure_connection()
    raw = connection.connection.cursor()
    try:
        raw.execute("PRAGMA mmap_size = 1073741824")
        yield raw, "?"
    finally:
        raw.close()


def _intact_bottom(events: dict, seqs, bottom: bytes, read) -> list[bytes] | None:
    """The common case, checked fast: every leaf of the tile has its event, and the recomputed
    leaf hashes equal both the tile's bottom row and the events' own stored hashes. Returns the
    recomputed hashes then; None sends the tile to the leaf-by-leaf check that names what is wrong."""
    try:
        rows = [events[seq] for seq in seqs]
    except KeyError:
        return None
    computed = [_sha256(b"\x00" + read(row[2:])).digest() for row in rows]
    if b"".join(computed) != bottom:
        return None
    if b"".join(bytes(row[1]) if row[1] is not None else b"?" for row in rows) != bottom:
        return None
    return computed


def _uuid_text(value) -> str:
    """An event id as people read it, whatever the driver returned (SQLite: 32 hex digits)."""
    try:
        return str(uuid.UUID(str(value)))
    except ValueError:
        return str(value)


def _previous_last_seq(k: int) -> int:
    """The seq of the last leaf before tile ``k`` (0 for the first tile, or when unreadable)."""
    if k == 0:
        return 0
    blob = tiles.tile_seqs(k - 1)
    return struct.unpack(">q", blob[-8:])[0] if len(blob) >= 8 and len(blob) % 8 == 0 else 0


def _leaf_range(k_start: int, k_end: int, size: int, last_seq: int, progress,
                max_problems: int = 100) -> _LeafPart:
    """Check level-0 tiles k_start..k_end-1: every leaf against its event, every stored hash."""
    part = _LeafPart()
    pruned = _Pruned()
    tile_count = -(-size // tiles.WIDTH)
    select = leaf.leaf_select(connection.vendor)
    read = leaf.row_reader(connection.vendor)
    previous_last = _previous_last_seq(k_start)
    with _fast_cursor() as (cursor, mark):
        for k in range(k_start, k_end):
            first_index = k * tiles.WIDTH
            expected_width = min(tiles.WIDTH, size - first_index)
            cursor.execute('SELECT width, hashes, first_seq, seqs FROM audit_logtile WHERE level = 0 AND "index" = '
                           + mark, [k])
            row = cursor.fetchone()
            if row is None:
                part.found.append((first_index, f"leaves {first_index}–{first_index + expected_width - 1}: their "
                                                "tile is missing"))
                continue
            found: list[tuple[int, str]] = []  # (leaf index, message), reported in leaf order
            width, blob, first_seq, seq_blob = row[0], bytes(row[1]), row[2], bytes(row[3] or b"")
            well_formed = len(blob) == tiles.row_offset(width, tiles.HEIGHT) and len(seq_blob) == 8 * width
            if well_formed and width > expected_width:
                found.append((size, f"the tile of leaves from {first_index} holds {width} leaves, the log's size of "
                                    f"{size} only {expected_width} (its tail was truncated)"))
                blob, seq_blob = _trim(blob, width, expected_width), seq_blob[:8 * expected_width]
                width = expected_width
            if width != expected_width or not well_formed:
                at = first_index + width if well_formed and 0 < width < expected_width else first_index
                part.found.append((at, f"leaves {at}–{first_index + expected_width - 1}: their tile is malformed "
                                       f"(width {width}, expected {expected_width})"))
                continue
            seqs = struct.unpack(f">{width}q", seq_blob)
            bottom = blob[:width * H]
            out_of_order = next((i for i in range(1, width) if seqs[i] <= seqs[i - 1]), None)
            if first_seq != seqs[0] or out_of_order is not None or seqs[0] <= previous_last:
                at = out_of_order or 0
                found.append((first_index + at, f"leaf {first_index + at}: the event order recorded in its tile "
                                                "is damaged"))
            # The events of this tile's seq range: each must be its leaf, and nothing else may be there.
            range_end = last_seq if k == tile_count - 1 else seqs[-1]
            cursor.execute(f"SELECT e.seq, e.leaf_hash, {select} FROM audit_auditevent e "
                           f"WHERE e.seq > {mark} AND e.seq <= {mark} ORDER BY e.seq", [previous_last, max(range_end, seqs[-1])])
            events = {r[0]: r for r in cursor.fetchall()}
            position = {s: i for i, s in enumerate(seqs)}
            for seq in sorted(set(events) - set(position)):
                at = first_index + bisect.bisect_left(seqs, seq)
                found.append((at, f"leaf {at}: event seq {seq} (id {_uuid_text(events[seq][2])}) sits in the log's range but "
                                  "is not a leaf of it"))
            true_bottom = _intact_bottom(events, seqs, bottom, read) if len(events) == width else None
            if true_bottom is not None:
                part.checked += width
            for i, seq in enumerate(seqs if true_bottom is None else ()):
                if i == 0:
                    true_bottom = []
                index = first_index + i
                stored = bottom[i * H:(i + 1) * H]
                event = events.get(seq)
                if event is None:
                    true_bottom.append(stored)
                    if index in pruned:
                        part.pruned += 1
                    else:
                        found.append((index, f"leaf {index}: its event (seq {seq}) is missing"))
                    continue
                computed = _sha256(b"\x00" + read(event[2:])).digest()
                true_bottom.append(computed)
                if computed != stored:
                    own = bytes(event[1]) if event[1] is not None else None
                    why = ("the event was changed" if own == stored else
                           "the event, or the log's hash of this leaf, was changed: the event still matches "
                           "the leaf hash stored with it" if own == computed else
                           "neither its own stored leaf hash nor the log's matches it")
                    found.append((index, f"leaf {index}: event {_uuid_text(event[2])} does not match its leaf hash ({why})"))
                elif event[1] is None or bytes(event[1]) != stored:
                    found.append((index, f"leaf {index}: the leaf hash stored with event {_uuid_text(event[2])} was changed"))
                part.checked += 1
            true_blob = tiles.build_rows(b"".join(true_bottom))
            if true_blob != blob:
                for j, p in _wrong_nodes(width, blob, true_blob, None):
                    child = _pruned_child_to_blame(width, blob, j, p, first_index, pruned)
                    if child is not None:
                        found.append((child, f"leaf {child} (its body pruned): its stored leaf hash was changed"))
                        continue
                    span = 1 << j
                    found.append((first_index + p * span, f"leaves {first_index + p * span}–"
                                  f"{first_index + (p + 1) * span - 1}: a stored hash over them (tree level {j}) is "
                                  "wrong"))
            part.found.extend(sorted(found, key=lambda item: item[0]))
            if len(part.found) >= max_problems:
                break
            previous_last = seqs[-1]
            if width == tiles.WIDTH:
                part.roots.add(true_blob, blob)
            else:
                part.edge = (width, true_blob)
            if progress:
                progress(first_index + width, size)
    part.last_seq = previous_last
    return part


def _verify_upper_tiles(report: Report, roots: _Roots, edge: tuple[int, bytes] | None, bad) -> bytes | None:
    """Tiles of level 1 and up against the roots recomputed from below; returns the tree's root
    recomputed from the leaves (None when the tree could not be recomputed)."""
    size = report.size
    if size == 0:
        return merkle.EMPTY_ROOT
    # The complete subtrees that make the root, recomputed level by level.
    computed: dict[merkle.NodeId, bytes] = {}
    if edge is not None:
        width, blob = edge
        k = size // tiles.WIDTH
        for j in range(tiles.HEIGHT):
            for p in range(width >> j):
                start = tiles.row_offset(width, j) + p * H
                computed[(j, ((k * tiles.WIDTH) >> j) + p)] = blob[start:start + H]
    t = 1
    with connection.cursor() as cursor:
        while True:
            count = size >> (tiles.HEIGHT * t)  # nodes at tree level 8t
            if count == 0:
                cursor.execute('SELECT count(*) FROM audit_logtile WHERE level >= %s', [t])
                if cursor.fetchone()[0]:
                    bad(f"the log has tiles above its height (level {t} and up): its tail was truncated",
                        leaf_index=size)
                break
            if len(roots.true) != count:
                bad(f"the tree's level {tiles.HEIGHT * t} could not be recomputed (tiles missing below)")
                return None
            cursor.execute('SELECT "index", width, hashes FROM audit_logtile WHERE level = %s ORDER BY "index"', [t])
            stored = {r[0]: (r[1], bytes(r[2])) for r in cursor.fetchall()}
            parents = _Roots()
            span = 1 << (tiles.HEIGHT * t)
            for k in range(-(-count // tiles.WIDTH)):
                below = roots.stored[k * tiles.WIDTH:(k + 1) * tiles.WIDTH]
                blob = tiles.build_rows(b"".join(roots.true[k * tiles.WIDTH:(k + 1) * tiles.WIDTH]))
                width = len(below)
                first = k * tiles.WIDTH * span
                got = stored.pop(k, None)
                if got is not None and got[0] > width and len(got[1]) == tiles.row_offset(got[0], tiles.HEIGHT):
                    if bad(f"the level-{t} tile over leaves from {first} holds {got[0]} entries, the log's size of "
                           f"{size} only {width} (its tail was truncated)", leaf_index=size):
                        return None
                    got = (width, _trim(got[1], got[0], width))
                if got is None or got[0] != width or len(got[1]) != len(blob):
                    if bad(f"leaves from {first}: their level-{t} tile is "
                           + ("missing" if got is None else f"malformed (width {got[0]}, expected {width})"),
                           leaf_index=first):
                        return None
                elif got[1] != blob:
                    wrong = _wrong_nodes(width, got[1], blob, below)
                    for j, p in sorted(wrong, key=lambda node: (node[1] << node[0], node[0])):
                        at = first + p * (span << j)
                        if bad(f"leaves from {at}: a stored hash over them (tree level {tiles.HEIGHT * t + j}) is "
                               "wrong", leaf_index=at):
                            return None
                stored_blob = got[1] if got is not None and got[0] == width and len(got[1]) == len(blob) else blob
                if width == tiles.WIDTH:
                    parents.add(blob, stored_blob)
                for j in range(tiles.HEIGHT):
                    for p in range(width >> j):
                        start = tiles.row_offset(width, j) + p * H
                        computed[(tiles.HEIGHT * t + j, ((k * tiles.WIDTH) >> j) + p)] = blob[start:start + H]
            if stored:
                bad(f"the log has unexpected tiles at level {t} (beyond its size of {size} leaves)", leaf_index=size)
            roots = parents
            t += 1
    needed = merkle.root_nodes(size)
    missing = [node for node in needed if node not in computed]
    if missing:
        bad(f"node {missing[0]} of the tree could not be recomputed")
        return None
    return merkle.fold_root([computed[node] for node in needed])


def _verify_heads(report: Report, bad) -> None:
    keys = heads.trusted_keys()
    store = tiles.Tiles()
    previous = None
    size = report.size
    latest = None
    for head in TreeHead.objects.order_by("id").iterator():
        report.heads_checked += 1
        latest = head
        label = f"tree head #{head.id} (size {head.size}, {heads.format_ms(head.timestamp_ms)})"
        problem = heads.check_signature(head, keys)
        if problem:
            bad(f"{label}: {problem}", head_id=head.id)
            continue
        if head.size > size:
            bad(f"{label}: the log has only {size} leaves (its tail was truncated)", head_id=head.id,
                leaf_index=size)
            continue
        try:
            root = store.root(head.size)
        except KeyError as exc:
            bad(f"{label}: {exc}", head_id=head.id)
            continue
        if root != bytes(head.root_hash):
            bad(f"{label}: its root does not match the log", head_id=head.id)
            continue
        if previous is not None:
            if head.size < previous.size or head.timestamp_ms < previous.timestamp_ms:
                bad(f"{label}: goes back from tree head #{previous.id}", head_id=head.id)
                continue
            if 0 < previous.size < head.size:
                try:
                    proof = store.consistency_proof(previous.size, head.size)
                    merkle.verify_consistency(previous.size, head.size, proof, bytes(previous.root_hash),
                                              bytes(head.root_hash))
                except (merkle.ProofError, KeyError, ValueError) as exc:
                    bad(f"{label}: not consistent with tree head #{previous.id}: {exc}", head_id=head.id)
                    continue
        previous = head
    published = heads.last_published()
    report.published = published
    if published is None:
        return
    try:
        p_size, p_root, p_ts = int(published["size"]), heads.base64.b64decode(published["root_hash"]), \
            int(published["timestamp"])
    except (KeyError, ValueError, TypeError):
        bad("the last published tree head in the witness file is unreadable")
        return
    label = f"the last published tree head (size {p_size}, {heads.format_ms(p_ts)})"
    if latest is None or latest.timestamp_ms < p_ts or latest.size < p_size:
        bad(f"{label} is newer than the database's latest head: tree heads were rolled back",
            head_id=latest.id if latest else None)
    if p_size > size:
        bad(f"{label}: the log has only {size} leaves (its tail was truncated)", leaf_index=size)
        return
    try:
        if store.root(p_size) != p_root:
            bad(f"{label}: its root does not match the log (history was rewritten)")
    except KeyError as exc:
        bad(f"{label}: {exc}")
