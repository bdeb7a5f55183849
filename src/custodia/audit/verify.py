"""Full verification of the audit log: ``custodia audit verify``.

Recomputes every leaf from its event, every stored hash from the leaves, every tree head's root,
signature and consistency with the previous head, and compares the log with the last head the
witnesses hold. Problems are reported in log order, so the first one names the first bad leaf
index or the bad tree head. Reads the tiles one at a time: memory stays small at any size.
"""

from __future__ import annotations

import bisect
import struct
from collections.abc import Callable
from dataclasses import dataclass, field

from django.db import connection

from custodia.audit import heads, leaf, merkle, tiles
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


def verify_log(progress: Callable[[int, int], None] | None = None, max_problems: int = 100) -> Report:
    """Verify everything; ``progress(leaves_done, size)`` is called after each tile."""
    state = LogState.objects.filter(pk=1).first()
    report = Report()
    if state is not None:
        report.size, report.root_hash = state.size, bytes(state.root_hash)
    last_seq = state.last_seq if state else 0
    problems = report.problems

    def bad(message: str, leaf_index=None, head_id=None) -> bool:
        problems.append(Problem(message, leaf_index, head_id))
        return len(problems) >= max_problems

    parents = _verify_leaves(report, last_seq, bad, progress)
    computed_root = _verify_upper_tiles(report, parents, bad)
    if computed_root is not None and computed_root != report.root_hash:
        bad(f"the log's recorded root does not match the tree recomputed from its {report.size} leaves")
    _verify_heads(report, bad)
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM audit_auditevent WHERE seq > %s", [last_seq])
        report.pending = cursor.fetchone()[0]
    return report


def _verify_leaves(report: Report, last_seq: int, bad, progress) -> list[bytes]:
    """Level-0 tiles against the events; returns the roots of the full tiles (level 1's bottom)."""
    size = report.size
    pruned = _Pruned()
    tile_count = -(-size // tiles.WIDTH)
    select = leaf.leaf_select(connection.vendor)
    parents: list[bytes] = []
    previous_last = 0
    with connection.cursor() as cursor:
        cursor.execute('SELECT count(*) FROM audit_logtile WHERE level = 0 AND "index" >= %s', [tile_count])
        if cursor.fetchone()[0]:
            bad(f"the log has tiles beyond its size of {size} leaves", leaf_index=size)
        for k in range(tile_count):
            first_index = k * tiles.WIDTH
            expected_width = min(tiles.WIDTH, size - first_index)
            cursor.execute('SELECT width, hashes, first_seq, seqs FROM audit_logtile WHERE level = 0 AND "index" = %s',
                           [k])
            row = cursor.fetchone()
            if row is None:
                if bad(f"leaves {first_index}–{first_index + expected_width - 1}: their tile is missing",
                       leaf_index=first_index):
                    return parents
                continue
            width, blob, first_seq, seq_blob = row[0], bytes(row[1]), row[2], bytes(row[3] or b"")
            if width != expected_width or len(blob) != tiles.row_offset(width, tiles.HEIGHT) \
                    or len(seq_blob) != 8 * width:
                if bad(f"leaves {first_index}–{first_index + expected_width - 1}: their tile is malformed "
                       f"(width {width}, expected {expected_width})", leaf_index=first_index):
                    return parents
                continue
            seqs = struct.unpack(f">{width}q", seq_blob)
            bottom = blob[:width * H]
            if first_seq != seqs[0] or any(b <= a for a, b in zip(seqs, seqs[1:])) or seqs[0] <= previous_last:
                at = next((i for i in range(1, width) if seqs[i] <= seqs[i - 1]), 0)
                if bad(f"leaf {first_index + at}: the event order recorded in its tile is damaged",
                       leaf_index=first_index + at):
                    return parents
            upper = blob[width * H:]
            rebuilt = tiles.build_rows(bottom)[width * H:]
            if rebuilt != upper:
                j, p = _first_difference(width, rebuilt, upper)
                span = 1 << j
                if bad(f"leaves {first_index + p * span}–{first_index + (p + 1) * span - 1}: a stored hash over "
                       f"them (tree level {j}) is wrong", leaf_index=first_index + p * span):
                    return parents
            # The events of this tile's seq range: each must be its leaf, and nothing else may be there.
            range_end = last_seq if k == tile_count - 1 else seqs[-1]
            cursor.execute(f"SELECT e.seq, e.leaf_hash, {select} FROM audit_auditevent e "
                           "WHERE e.seq > %s AND e.seq <= %s ORDER BY e.seq", [previous_last, max(range_end, seqs[-1])])
            events = {r[0]: r for r in cursor.fetchall()}
            position = {s: i for i, s in enumerate(seqs)}
            for seq in sorted(set(events) - set(position)):
                at = bisect.bisect_left(seqs, seq)
                if bad(f"leaf {first_index + at}: event seq {seq} (id {events[seq][2]}) sits in the log's range "
                       "but is not a leaf of it", leaf_index=first_index + at):
                    return parents
            for i, seq in enumerate(seqs):
                index = first_index + i
                stored = bottom[i * H:(i + 1) * H]
                event = events.get(seq)
                if event is None:
                    if index in pruned:
                        report.pruned += 1
                        continue
                    if bad(f"leaf {index}: its event (seq {seq}) is missing", leaf_index=index):
                        return parents
                    continue
                computed = _sha256(b"\x00" + leaf.from_row(event[2:])).digest()
                if computed != stored:
                    if bad(f"leaf {index}: event {event[2]} does not match its leaf hash (the event was changed)",
                           leaf_index=index):
                        return parents
                elif event[1] is None or bytes(event[1]) != stored:
                    if bad(f"leaf {index}: the leaf hash stored with event {event[2]} was changed",
                           leaf_index=index):
                        return parents
                report.leaves_checked += 1
            previous_last = seqs[-1]
            if width == tiles.WIDTH:
                parents.append(tiles.full_tile_root(blob))
            if progress:
                progress(first_index + width, size)
    if previous_last != last_seq and size:
        bad(f"the log says it integrated events up to seq {last_seq}, its last leaf is seq {previous_last}",
            leaf_index=size - 1)
    return parents


def _first_difference(width: int, rebuilt: bytes, stored: bytes) -> tuple[int, int]:
    """(row j, position) of the first stored hash above the bottom that differs."""
    offset = 0
    for j in range(1, tiles.HEIGHT):
        n = width >> j
        for p in range(n):
            a = rebuilt[offset + p * H:offset + (p + 1) * H]
            if a != stored[offset + p * H:offset + (p + 1) * H]:
                return j, p
        offset += n * H
    return tiles.HEIGHT - 1, 0


def _verify_upper_tiles(report: Report, entries: list[bytes], bad) -> bytes | None:
    """Tiles of level 1 and up against the roots recomputed from below; returns the tree's root
    recomputed from the leaves (None when the tree could not be recomputed)."""
    size = report.size
    if size == 0:
        return merkle.EMPTY_ROOT
    # The complete subtrees that make the root, recomputed level by level.
    computed: dict[merkle.NodeId, bytes] = {}
    level_bottom = entries
    t = 1
    with connection.cursor() as cursor:
        while True:
            count = size >> (tiles.HEIGHT * t)  # nodes at tree level 8t
            if count == 0:
                cursor.execute('SELECT count(*) FROM audit_logtile WHERE level >= %s', [t])
                if cursor.fetchone()[0]:
                    bad(f"the log has tiles above its height (level {t} and up)")
                break
            if len(level_bottom) != count:
                bad(f"the tree's level {tiles.HEIGHT * t} could not be recomputed (tiles missing below)")
                return None
            cursor.execute('SELECT "index", width, hashes FROM audit_logtile WHERE level = %s ORDER BY "index"', [t])
            stored = {r[0]: (r[1], bytes(r[2])) for r in cursor.fetchall()}
            parents = []
            span = 1 << (tiles.HEIGHT * t)
            for k in range(-(-count // tiles.WIDTH)):
                bottom = b"".join(level_bottom[k * tiles.WIDTH:(k + 1) * tiles.WIDTH])
                blob = tiles.build_rows(bottom)
                width = len(bottom) // H
                got = stored.pop(k, None)
                if got is None or got[0] != width or got[1] != blob:
                    first = k * tiles.WIDTH * span
                    if got is not None and got[0] == width and len(got[1]) == len(blob):
                        j, p = _first_bottom_or_row_difference(width, blob, got[1])
                        first += p * (span << j)
                    if bad(f"leaves from {first}: a stored hash over them (tile level {t}) is wrong",
                           leaf_index=first):
                        return None
                if width == tiles.WIDTH:
                    parents.append(tiles.full_tile_root(blob))
                for j in range(tiles.HEIGHT):
                    for p in range(width >> j):
                        start = tiles.row_offset(width, j) + p * H
                        computed[(tiles.HEIGHT * t + j, ((k * tiles.WIDTH) >> j) + p)] = blob[start:start + H]
            if stored:
                bad(f"the log has unexpected tiles at level {t}")
            level_bottom = parents
            t += 1
    # Level-0 tiles' internal nodes were checked against their bottoms; fetch the few the root needs.
    needed = merkle.root_nodes(size)
    store = tiles.Tiles()
    hashes = []
    for node in needed:
        if node in computed:
            hashes.append(computed[node])
        else:
            try:
                hashes.extend(store.nodes([node]))
            except KeyError as exc:
                bad(str(exc))
                return None
    return merkle.fold_root(hashes)


def _first_bottom_or_row_difference(width: int, a: bytes, b: bytes) -> tuple[int, int]:
    offset = 0
    for j in range(tiles.HEIGHT):
        n = width >> j
        for p in range(n):
            if a[offset + p * H:offset + (p + 1) * H] != b[offset + p * H:offset + (p + 1) * H]:
                return j, p
        offset += n * H
    return 0, 0


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
