"""Tamper evidence of the Merkle audit log (issue 4).

One log of more than two level-0 tiles is built through the real services (customers created,
changed, revealed, listed, plus batches of events, some of them sign-ins dated 400 days ago whose
bodies retention prunes), with gaps in ``seq`` and seven signed tree heads published to the witness
file. Then 1,050 random tamperings of the stored log, each made as a database administrator would
(inside the maintenance window the append-only triggers allow) and rolled back afterwards: a
changed byte in an event, a stored hash (leaf, interior, upper tile), a tile's event order or a
tree head; deleted, inserted and reordered rows; a deletion passed off as pruned; a truncated tail
(tiles recomputed or left, later heads kept or deleted); the log state changed; rolled-back tree
heads; a head re-signed with another key; history rewritten with every hash recomputed.
``verify_log`` must find each one and name the right leaf index or tree head. Forged elements of
inclusion and consistency proofs must be refused.

The seed is fixed (``CUSTODIA_TAMPER_SEED`` overrides it); every failure message prints it.
"""

from __future__ import annotations

import base64
import bisect
import collections
import datetime as dt
import os
import random
import struct
import time
import uuid
from unittest import mock

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from django.db import connection, transaction
from django.utils import timezone

from custodia.access import events as access_events
from custodia.audit import heads, leaf, merkle, proofs, retention, sequencer, tiles
from custodia.audit.models import AuditEvent, LogState, LogTile, PrunedRange, TreeHead
from custodia.audit.services import audit_record_many
from custodia.audit.verify import verify_log
from custodia.customers import events as customer_events
from custodia.customers import selectors, services
from custodia.kernel.actor import Actor
from custodia.protection.crypto import KeyBag
from custodia.testing.factories import make_customer, make_org

pytestmark = pytest.mark.django_db

SEED = int(os.environ.get("CUSTODIA_TAMPER_SEED", "4042026"))
TAMPERINGS = 1050
PROOF_FORGERIES = 300
H = tiles.H

TEXT_COLUMNS = ("action", "actor_label", "actor_role", "request_id", "source_ip", "target_type", "purpose", "outcome")
UUID_COLUMNS = ("id", "actor_id", "target_id", "subject_id")
JSON_COLUMNS = ("fields", "object_ids", "detail")
BODY_COLUMNS = (*TEXT_COLUMNS, *UUID_COLUMNS, *JSON_COLUMNS, "event_type", "occurred_at", "change_enc")


# -- building a realistic log --------------------------------------------------------------------

def _batch(rng: random.Random, actors: list[Actor], customers: list, keys: KeyBag, n: int) -> list[dict]:
    kinds = [customer_events.CUSTOMER_VIEWED, customer_events.CUSTOMER_LIST_VIEWED,
             customer_events.CUSTOMER_UPDATED, customer_events.CUSTOMER_FIELD_REVEALED,
             customer_events.CUSTOMERS_EXPORTED, access_events.USER_LOGGED_IN]
    out = []
    for _ in range(n):
        event = rng.choices(kinds, [5, 3, 3, 3, 1, 2])[0]
        customer = rng.choice(customers)
        kw = dict(actor=rng.choice(actors), event=event, target_type="customer", target_id=customer.id,
                  subject_id=customer.id)
        if event is customer_events.CUSTOMER_LIST_VIEWED:
            kw.update(subject_id=None, target_id=None,
                      object_ids=[c.id for c in rng.sample(customers, rng.randint(1, 4))],
                      detail={"page": rng.randint(1, 9), "filters": {"tier": "vip"} if rng.random() < .5 else {}})
        elif event is customer_events.CUSTOMER_UPDATED:
            kw.update(fields=["notes", "stage"], keys=keys, change={"before": {"stage": "lead", "notes": "旧备注"},
                                                                    "after": {"stage": "active", "notes": "新备注"}})
        elif event is customer_events.CUSTOMER_FIELD_REVEALED:
            kw.update(fields=[rng.choice(["mobile", "email", "id_number"])], purpose="contact_customer")
        elif event is access_events.USER_LOGGED_IN:  # a security event: its body is pruned after 6 months
            kw.update(target_type="user", target_id=None, subject_id=None, detail={"method": "password+totp"})
        elif event is customer_events.CUSTOMERS_EXPORTED:
            kw.update(subject_id=None, target_id=None, object_ids=[c.id for c in customers[:3]],
                      detail={"rows": 3, "masked": True, "format": "csv"}, outcome=rng.choice(["success", "denied"]))
        out.append(kw)
    return out


def _record(rng, actors, customers, keys, n, *, days_ago: int = 0) -> None:
    """Record ``n`` events, as if ``days_ago`` days ago (their time is part of their leaf)."""
    real_now = timezone.now
    with transaction.atomic(), mock.patch("django.utils.timezone.now", lambda: real_now() - dt.timedelta(
            days=days_ago)):
        audit_record_many(_batch(rng, actors, customers, keys, n))


def _punch_gaps(rng: random.Random, actors, customers, keys) -> None:
    """Leave gaps in ``seq`` inside the integrated range, as aborted transactions do on
    PostgreSQL: events written and rolled back (PostgreSQL keeps the sequence numbers taken), and
    pending events removed before the sequencer saw them (gaps on SQLite too)."""
    sid = transaction.savepoint()
    _record(rng, actors, customers, keys, 3)
    transaction.savepoint_rollback(sid)
    _record(rng, actors, customers, keys, 6)
    with connection.cursor() as cursor:
        cursor.execute("SELECT seq FROM audit_auditevent WHERE seq > %s ORDER BY seq", [sequencer.log_state().last_seq])
        pending = [r[0] for r in cursor.fetchall()]
        doomed = pending[1:3]
        cursor.execute("INSERT INTO audit_maintenance (reason) VALUES ('test: gaps')")
        cursor.execute(f"DELETE FROM audit_auditevent WHERE seq IN ({', '.join(['%s'] * len(doomed))})", doomed)
        cursor.execute("DELETE FROM audit_maintenance")


def build_log(rng: random.Random, on_commit, *, head_sizes=(37, 255, 256, 300, 511, 540, 600),
              prune_at: int | None = 540) -> dict:
    """A log with real customer operations, gaps in ``seq``, and signed heads at ``head_sizes``
    (approximately: each head covers everything recorded so far). The events up to ``prune_at``
    are dated 400 days ago; there retention runs and prunes the bodies of their security events."""
    org = make_org()
    customers = [make_customer(org.rep) for _ in range(5)]
    rep = org.actor("rep")
    services.customer_update(actor=rep, customer_id=customers[0].id, data={"stage": "lead", "notes": "季度末"})
    services.field_reveal(actor=rep, customer_id=customers[1].id, field="mobile", purpose="contact_customer")
    selectors.customer_list(rep)
    selectors.customer_get(rep, customers[2].id)
    actors = [rep, org.actor("manager"), org.actor("compliance"), Actor.system("tests")]
    keys = KeyBag.load([c.id for c in customers])
    for target in head_sizes:
        current = AuditEvent.objects.count()
        days_ago = 400 if prune_at and target <= prune_at else 0
        if target > current:
            _record(rng, actors, customers, keys, target - current, days_ago=days_ago)
        if target in (255, 511):
            _punch_gaps(rng, actors, customers, keys)
        if target == prune_at:
            assert retention.prune(actor=Actor.system("tests")).count
        with on_commit(execute=True):
            heads.sign_head()
    log = snapshot()
    witness = heads.witnesses()[0].target
    with open(witness, encoding="utf-8") as fh:
        assert len(fh.readlines()) == len(log["heads"]), "every signed head is published to the witness file"
    return log


def snapshot() -> dict:
    """The integrated log as stored: leaf seqs and hashes in order, the leaves whose event is
    there (not pruned), tiles, heads, pruned ranges."""
    state = LogState.objects.get(pk=1)
    seqs: list[int] = []
    hashes: list[bytes] = []
    for width, blob, seq_blob in LogTile.objects.filter(level=0).order_by("index").values_list("width", "hashes",
                                                                                                "seqs"):
        seqs.extend(tiles.leaf_seqs(bytes(seq_blob)))
        hashes.extend(bytes(blob)[i * H:(i + 1) * H] for i in range(width))
    assert len(seqs) == state.size
    present = set(AuditEvent.objects.filter(seq__in=seqs).values_list("seq", flat=True))
    return {"size": state.size, "seqs": seqs, "hashes": hashes,
            "present": [i for i, s in enumerate(seqs) if s in present],
            "pruned": {i for i, s in enumerate(seqs) if s not in present},
            "tiles": {(t, k): w for t, k, w in LogTile.objects.values_list("level", "index", "width")},
            "heads": list(TreeHead.objects.order_by("id").values_list("id", "size")),
            "prunes": list(PrunedRange.objects.values_list("event_id", "pruned_at").distinct())}


# -- tampering helpers -------------------------------------------------------------------------

def _open_maintenance() -> None:
    with connection.cursor() as cursor:
        cursor.execute("INSERT INTO audit_maintenance (reason) VALUES ('tamper test')")


def _flip(rng: random.Random, data: bytes, lo: int = 0, hi: int | None = None) -> tuple[bytes, int]:
    data = bytearray(data)
    hi = len(data) if hi is None else hi
    pos = rng.randrange(lo, hi)
    data[pos] ^= rng.randrange(1, 256)
    return bytes(data), pos


def _other_char(rng: random.Random, c: str) -> str:
    return rng.choice([x for x in "abcXYZ019._-中" if x != c])


def _change_text(rng: random.Random, text: str) -> str:
    if not text:
        return "x"
    pos = rng.randrange(len(text))
    return text[:pos] + _other_char(rng, text[pos]) + text[pos + 1:]


def _change_json(rng: random.Random, value):
    if isinstance(value, list):
        if not value:
            return ["x"]
        value = list(value)
        i = rng.randrange(len(value))
        value[i] = _change_json(rng, value[i])
        return value
    if isinstance(value, dict):
        if not value:
            return {"x": 1}
        value = dict(value)
        key = rng.choice(sorted(value))
        if rng.random() < 0.3:
            value[_change_text(rng, key)] = value.pop(key)
        else:
            value[key] = _change_json(rng, value[key])
        return value
    if isinstance(value, bool) or value is None:
        return "x"
    if isinstance(value, int):
        return value + rng.choice([-1, 1, 1000])
    if isinstance(value, str):
        return _change_text(rng, value)
    return "x"


def _change_uuid(rng: random.Random, value) -> uuid.UUID:
    if value is None:
        return uuid.uuid4()
    text = value.hex
    pos = rng.randrange(32)
    return uuid.UUID(text[:pos] + rng.choice([c for c in "0123456789abcdef" if c != text[pos]]) + text[pos + 1:])


def _update_event(seq: int, **values) -> None:
    assert AuditEvent.objects.filter(seq=seq).update(**values) == 1


def _tile(level: int, index: int) -> tuple[int, bytes, bytes | None, int | None]:
    row = LogTile.objects.filter(level=level, index=index).values_list("width", "hashes", "seqs", "first_seq").get()
    return row[0], bytes(row[1]), bytes(row[2]) if row[2] is not None else None, row[3]


def _rebuild_tiles(hashes: list[bytes], seqs: list[int]) -> None:
    """Rewrite every tile and the state for these leaves, as a careful attacker would."""
    LogTile.objects.all().delete()
    store = tiles.Tiles()
    size = tiles.append(store, 0, hashes, seqs)
    LogState.objects.filter(pk=1).update(size=size, root_hash=store.root(size), last_seq=seqs[-1])


def _leaf_hash_of(seq: int) -> bytes:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {leaf.leaf_select(connection.vendor)} FROM audit_auditevent e WHERE e.seq = %s", [seq])
        return leaf.leaf_hash(leaf.from_row(cursor.fetchone()))


# -- the tamperings: each makes one change and returns (description, expected first bad leaf, expected
#    first bad head[, text a problem must contain]); with a leaf expected, the head is not checked (a
#    changed stored hash may also make a head's root differ); with none, no leaf may be named.

class Tamperer:
    def __init__(self, rng: random.Random, log: dict):
        self.rng, self.log = rng, log

    def _leaf(self, *, pruned_too: bool = False) -> tuple[int, int]:
        """A random leaf whose event is there (or any leaf)."""
        i = self.rng.randrange(self.log["size"]) if pruned_too else self.rng.choice(self.log["present"])
        return i, self.log["seqs"][i]

    def event_column(self):
        rng = self.rng
        i, seq = self._leaf()
        event = AuditEvent.objects.get(seq=seq)
        column = rng.choice(BODY_COLUMNS)
        old = getattr(event, column)
        if column in TEXT_COLUMNS:
            new = _change_text(rng, old)
        elif column in UUID_COLUMNS:
            new = _change_uuid(rng, old)
        elif column in JSON_COLUMNS:
            new = _change_json(rng, old)
        elif column == "event_type":
            new = old + rng.choice([-1, 1, 7])
        elif column == "occurred_at":
            new = old + rng.choice([-1, 1]) * dt.timedelta(microseconds=rng.choice([1, 1000, 10 ** 6, 86400 * 10 ** 6]))
        else:  # change_enc
            new = _flip(rng, bytes(old))[0] if old is not None else os.urandom(rng.choice([29, 60]))
        _update_event(seq, **{column: new})
        return f"event at leaf {i}: {column} changed", i, None

    def event_leaf_hash(self):
        i, seq = self._leaf()
        stored = bytes(AuditEvent.objects.filter(seq=seq).values_list("leaf_hash", flat=True).get())
        new, pos = _flip(self.rng, stored)
        _update_event(seq, leaf_hash=new if self.rng.random() < 0.95 else None)
        return f"event at leaf {i}: stored leaf hash byte {pos} flipped", i, None

    def tile0_bottom(self):
        i, _seq = self._leaf(pruned_too=True)
        k, p = divmod(i, tiles.WIDTH)
        width, blob, _, _ = _tile(0, k)
        new, pos = _flip(self.rng, blob, p * H, (p + 1) * H)
        LogTile.objects.filter(level=0, index=k).update(hashes=new)
        expected = i
        if i in self.log["pruned"] and ((i ^ 1) in self.log["pruned"] or (p >> 2) >= (width >> 2)):
            # A pruned leaf's hash cannot be recomputed; when its sibling's cannot either, or no
            # stored hash above the pair confirms the pair's, only the pair can be named.
            expected = i & ~1
        pruned = " (body pruned)" if i in self.log["pruned"] else ""
        return f"level-0 tile {k}: leaf hash of leaf {i}{pruned} (byte {pos}) flipped", expected, None

    def _upper_row_flip(self, level: int):
        rng = self.rng
        keys = [key for key, width in self.log["tiles"].items() if key[0] == level and width >= 2]
        t, k = rng.choice(keys)
        width, blob, _, _ = _tile(t, k)
        if level > 0 and rng.random() < 0.5:
            j = 0
        else:
            j = rng.randrange(1, min(tiles.HEIGHT, width.bit_length()))
        p = rng.randrange(width >> j)
        start = tiles.row_offset(width, j) + p * H
        new, _ = _flip(rng, blob, start, start + H)
        LogTile.objects.filter(level=t, index=k).update(hashes=new)
        first = ((k * tiles.WIDTH) + (p << j)) << (tiles.HEIGHT * t)
        return f"tile ({t}, {k}) width {width}: stored hash row {j} position {p} flipped", first, None

    def tile0_upper(self):
        return self._upper_row_flip(0)

    def tile1(self):
        return self._upper_row_flip(1)

    def tile0_seqs(self):
        i, _seq = self._leaf()
        k, p = divmod(i, tiles.WIDTH)
        _, _, seq_blob, _ = _tile(0, k)
        new, pos = _flip(self.rng, seq_blob, p * 8, (p + 1) * 8)
        LogTile.objects.filter(level=0, index=k).update(seqs=new)
        return f"level-0 tile {k}: seq of leaf {i} (byte {pos % 8}) flipped", i, None

    def tile0_first_seq(self):
        k = self.rng.randrange(-(-self.log["size"] // tiles.WIDTH))
        _, _, _, first_seq = _tile(0, k)
        LogTile.objects.filter(level=0, index=k).update(first_seq=first_seq + self.rng.choice([-1, 1, -1000, 10 ** 9]))
        return f"level-0 tile {k}: first_seq changed", k * tiles.WIDTH, None

    def tile_deleted(self):
        t, k = self.rng.choice(sorted(self.log["tiles"]))
        LogTile.objects.filter(level=t, index=k).delete()
        return f"tile ({t}, {k}) deleted", (k * tiles.WIDTH) << (tiles.HEIGHT * t), None

    def head_field(self):
        rng = self.rng
        head_id, _size = rng.choice(self.log["heads"])
        head = TreeHead.objects.get(pk=head_id)
        field = rng.choice(["signature", "root_hash", "size", "timestamp_ms", "key_id"])
        if field in ("signature", "root_hash"):
            new = _flip(rng, bytes(getattr(head, field)))[0]
        elif field == "size":
            new = max(0, head.size + rng.choice([-1, 1, -head.size, 1 << 20, rng.randint(-300, 300) or 1]))
            if new == head.size:
                new += 1
        elif field == "timestamp_ms":
            new = head.timestamp_ms + rng.choice([-1, 1, -86_400_000, 3_600_000])
        else:
            pos = rng.randrange(len(head.key_id))
            new = head.key_id[:pos] + rng.choice([c for c in "0123456789abcdef" if c != head.key_id[pos]]) \
                + head.key_id[pos + 1:]
        TreeHead.objects.filter(pk=head_id).update(**{field: new})
        return f"tree head #{head_id}: {field} changed", None, head_id

    def head_resigned(self):
        """A head replaced by one signed with another Ed25519 key (same or changed content)."""
        rng = self.rng
        head_id, _size = rng.choice(self.log["heads"])
        head = TreeHead.objects.get(pk=head_id)
        forger = Ed25519PrivateKey.generate()
        root, size = bytes(head.root_hash), head.size
        if rng.random() < 0.5:
            root = os.urandom(32)
        signature = forger.sign(heads.sth_input(size, head.timestamp_ms, root))
        kid = heads.key_id(forger.public_key()) if rng.random() < 0.7 else head.key_id
        TreeHead.objects.filter(pk=head_id).update(root_hash=root, signature=signature, key_id=kid)
        return f"tree head #{head_id}: re-signed with another key (key id {kid})", None, head_id

    def event_deleted(self):
        i, seq = self._leaf()
        assert AuditEvent.objects.filter(seq=seq).delete()[0] == 1
        return f"event at leaf {i} (seq {seq}) deleted", i, None

    def event_deleted_as_pruned(self):
        """An event deleted and its leaf marked pruned, as if retention had removed its body:
        under an invented prune, or added to a real prune's ranges."""
        rng = self.rng
        i, seq = self._leaf()
        assert AuditEvent.objects.filter(seq=seq).delete()[0] == 1
        if rng.random() < 0.5:
            # An invented prune: a new id, or the id of an event that is no prune.
            other = AuditEvent.objects.filter(seq=self.log["seqs"][rng.choice(self.log["present"])]).first()
            invented = other.id if other is not None and rng.random() < 0.3 else uuid.uuid4()
            PrunedRange.objects.create(start=i, end=i + 1, pruned_at=timezone.now(), event_id=invented,
                                       mac=os.urandom(32))
            return f"event at leaf {i} deleted and marked pruned by an invented prune ({invented})", i, None
        event_id, pruned_at = rng.choice(self.log["prunes"])
        # Copying the MAC of one of the prune's real ranges does not help: it covers start and end.
        mac = PrunedRange.objects.filter(event_id=event_id).values_list("mac", flat=True).first()
        PrunedRange.objects.create(start=i, end=i + 1, pruned_at=pruned_at, event_id=event_id,
                                   mac=bytes(mac) if rng.random() < 0.5 else os.urandom(32))
        return f"event at leaf {i} deleted and added to the ranges of prune {event_id}", i, None

    def event_inserted(self):
        rng = self.rng
        seqs = self.log["seqs"]
        gaps = [s for a, b in zip(seqs, seqs[1:], strict=False) for s in range(a + 1, b)]
        gap = rng.choice(gaps)
        source = AuditEvent.objects.get(seq=seqs[rng.choice(self.log["present"])])
        source.seq, source.id = gap, uuid.uuid4()
        if rng.random() < 0.5:
            source.purpose = "inserted afterwards"
        source.leaf_hash = None
        source.save(force_insert=True)
        AuditEvent.objects.filter(seq=gap).update(leaf_hash=_leaf_hash_of(gap))  # a well-formed forged event
        at = bisect.bisect_left(seqs, gap)
        return f"event inserted with seq {gap} (between leaves {at - 1} and {at})", at, None

    def reorder_events(self):
        """Two events exchange places (their seqs, hence their bodies, swap)."""
        rng = self.rng
        present = self.log["present"]
        x = rng.randrange(len(present))
        y = min(len(present) - 1, x + rng.choice([1, 1, 2, 17, 300])) if rng.random() < 0.7 else rng.randrange(
            len(present))
        if y == x:
            y = x - 1 if x else x + 1
        i, j = present[min(x, y)], present[max(x, y)]
        a, b = self.log["seqs"][i], self.log["seqs"][j]
        temp = -1 - a
        with connection.cursor() as cursor:
            for old, new in ((a, temp), (b, a), (temp, b)):
                cursor.execute("UPDATE audit_auditevent SET seq = %s WHERE seq = %s", [new, old])
        return f"events at leaves {i} and {j} swapped", i, None

    def reorder_tile_seqs(self):
        rng = self.rng
        k = rng.randrange(-(-self.log["size"] // tiles.WIDTH))
        width, _, seq_blob, _ = _tile(0, k)
        present = [p for p in range(width) if k * tiles.WIDTH + p not in self.log["pruned"]]
        i = rng.choice(present[:-1])
        j = i + 1 if rng.random() < 0.5 else rng.randrange(i + 1, width)
        seqs = list(tiles.leaf_seqs(seq_blob))
        seqs[i], seqs[j] = seqs[j], seqs[i]
        new = struct.pack(f">{width}q", *seqs)
        LogTile.objects.filter(level=0, index=k).update(seqs=new, first_seq=seqs[0])
        return f"level-0 tile {k}: seqs of leaves {k * 256 + i} and {k * 256 + j} swapped", k * tiles.WIDTH + i, None

    def truncate(self):
        """Delete the tail: events after leaf n'-1, their tiles, the state set back; tiles either
        recomputed for the new size or left as they are; later tree heads kept or deleted."""
        rng = self.rng
        size, seqs = self.log["size"], self.log["seqs"]
        new_size = rng.choice([rng.randrange(1, size), size - 1, size - rng.randint(1, 40), 256, 512])
        AuditEvent.objects.filter(seq__gt=seqs[new_size - 1]).delete()
        rebuilt = rng.random() < 0.5
        if rebuilt:
            _rebuild_tiles(self.log["hashes"][:new_size], seqs[:new_size])
        else:
            for (t, k) in self.log["tiles"]:
                count = new_size >> (tiles.HEIGHT * t)
                if k >= -(-count // tiles.WIDTH):
                    LogTile.objects.filter(level=t, index=k).delete()
            root = tiles.Tiles().root(new_size)  # what the attacker reads off the stored nodes
            LogState.objects.filter(pk=1).update(size=new_size, last_seq=seqs[new_size - 1], root_hash=root)
        drop_heads = rng.random() < 0.5
        if drop_heads:
            TreeHead.objects.filter(size__gt=new_size).delete()
        return (f"tail truncated to {new_size} leaves (tiles {'recomputed' if rebuilt else 'left'}, later heads "
                f"{'deleted' if drop_heads else 'kept'})"), new_size, None

    def state_changed(self):
        """The sequencer's record of the log: its root hash, or its size (leaves dropped from or
        claimed beyond the end)."""
        rng = self.rng
        state = LogState.objects.get(pk=1)
        if rng.random() < 0.4:
            LogState.objects.filter(pk=1).update(root_hash=_flip(rng, bytes(state.root_hash))[0])
            return "the log state's root hash flipped", None, None, "recorded root"
        new = max(1, state.size + rng.choice([-1, 1, -rng.randint(2, 300), rng.randint(2, 300)]))
        LogState.objects.filter(pk=1).update(size=new)
        return f"the log state's size changed from {state.size} to {new}", min(new, state.size), None

    def heads_rolled_back(self):
        rng = self.rng
        ids = [h[0] for h in self.log["heads"]]
        keep = rng.randrange(len(ids))
        TreeHead.objects.filter(pk__in=ids[keep:]).delete()
        latest = ids[keep - 1] if keep else None
        return f"tree heads #{ids[keep]}.. deleted (rolled back to {latest})", None, latest, "rolled back"

    def history_rewritten(self):
        """One event changed and every hash recomputed to match (leaf hash, tiles, state): only the
        signed heads can tell; the first head covering the leaf is named."""
        rng = self.rng
        i, seq = self._leaf()
        event = AuditEvent.objects.get(seq=seq)
        _update_event(seq, purpose=_change_text(rng, event.purpose), outcome="denied" if event.outcome == "success"
                      else "success")
        forged = _leaf_hash_of(seq)
        _update_event(seq, leaf_hash=forged)
        _rebuild_tiles([forged if n == i else h for n, h in enumerate(self.log["hashes"])], self.log["seqs"])
        first = next(h for h, size in self.log["heads"] if size > i)
        return f"event at leaf {i} rewritten with every hash recomputed", None, first


KINDS = {  # kind: weight
    "event_column": 14, "event_leaf_hash": 6, "tile0_bottom": 7, "tile0_upper": 6, "tile1": 4, "tile0_seqs": 6,
    "tile0_first_seq": 3, "tile_deleted": 3, "head_field": 8, "head_resigned": 4, "event_deleted": 5,
    "event_deleted_as_pruned": 4,
    "event_inserted": 5, "reorder_events": 5, "reorder_tile_seqs": 4, "truncate": 6, "state_changed": 3,
    "heads_rolled_back": 3, "history_rewritten": 3,
}
MINIMUM_PER_KIND = 10


def _located(report, leaf_index, head_id, text) -> bool:
    if text and not any(text in str(p) for p in report.problems):
        return False
    if leaf_index is not None:
        return report.first_bad_leaf == leaf_index
    return report.first_bad_head == head_id and report.first_bad_leaf is None


def test_every_tampering_of_the_stored_log_is_detected_and_located(django_capture_on_commit_callbacks):
    rng = random.Random(SEED)
    log = build_log(rng, django_capture_on_commit_callbacks)
    assert log["size"] > 2 * tiles.WIDTH and len(log["heads"]) >= 6
    intact = verify_log()
    assert intact.ok, [str(p) for p in intact.problems]
    assert intact.leaves_checked == len(log["present"]) and intact.pruned == len(log["pruned"]) > 20
    assert intact.heads_checked == len(log["heads"])
    assert intact.published and intact.published["size"] == log["size"]

    tamperer = Tamperer(rng, log)
    names = list(KINDS)
    weights = [KINDS[n] for n in names]
    counts: collections.Counter = collections.Counter()
    failures = []
    started = time.monotonic()
    for round_ in range(TAMPERINGS):
        kind = rng.choices(names, weights)[0]
        sid = transaction.savepoint()
        try:
            _open_maintenance()
            what, leaf_index, head_id, *text = getattr(tamperer, kind)()
            report = verify_log()
        finally:
            transaction.savepoint_rollback(sid)
        counts[kind] += 1
        if report.ok or not _located(report, leaf_index, head_id, text[0] if text else None):
            failures.append(
                f"seed {SEED} round {round_} [{kind}] {what}: expected leaf {leaf_index} / head {head_id}, got "
                f"ok={report.ok} first_bad_leaf={report.first_bad_leaf} first_bad_head={report.first_bad_head}: "
                + "; ".join(str(p) for p in report.problems[:4]))
    elapsed = time.monotonic() - started
    print(f"\n{connection.vendor}: {sum(counts.values())} tamperings in {elapsed:.1f} s (seed {SEED}), "
          f"log of {log['size']} leaves, {len(log['heads'])} heads: "
          + ", ".join(f"{k} {counts[k]}" for k in names))

    after = verify_log()
    assert after.ok, [str(p) for p in after.problems]
    failed_kinds = collections.Counter(f.split("[", 1)[1].split("]", 1)[0] for f in failures)
    assert not failures, (f"{len(failures)} of {TAMPERINGS} tamperings not detected or not located "
                          f"({dict(failed_kinds)}):\n" + "\n".join(failures[:25]))
    assert sum(counts.values()) >= 1000
    assert all(counts[k] >= MINIMUM_PER_KIND for k in names), counts


def test_forged_proof_elements_are_refused(django_capture_on_commit_callbacks):
    """Inclusion and consistency proofs out of the stored log verify; one hash in the middle of a
    proof replaced (random bytes, or a neighbour's hash) makes them fail."""
    rng = random.Random(SEED + 1)
    log = build_log(rng, django_capture_on_commit_callbacks, head_sizes=(300, 530))
    event_ids = list(AuditEvent.objects.filter(seq__in=log["seqs"]).values_list("id", flat=True))
    counts = collections.Counter()
    for round_ in range(PROOF_FORGERIES):
        if round_ % 2 == 0:
            proof = proofs.inclusion(rng.choice(event_ids))
            hashes = [base64.b64decode(h) for h in proof["hashes"]]
            args = (base64.b64decode(proof["leaf_hash"]), proof["leaf_index"], proof["tree_size"])
            root = base64.b64decode(proof["root_hash"])

            def check(h, args=args, root=root):
                merkle.verify_inclusion(*args, h, root)
            kind = "inclusion"
        else:
            size2 = rng.randrange(2, log["size"] + 1)
            size1 = rng.randrange(1, size2)
            proof = proofs.consistency(size1, size2)
            hashes = [base64.b64decode(h) for h in proof["hashes"]]
            r1, r2 = base64.b64decode(proof["root1"]), base64.b64decode(proof["root2"])

            def check(h, s1=size1, s2=size2, r1=r1, r2=r2):
                merkle.verify_consistency(s1, s2, h, r1, r2)
            kind = "consistency"
        check(hashes)  # the genuine proof verifies
        if not hashes:
            continue
        forged = list(hashes)
        at = rng.randrange(len(forged)) if len(forged) < 3 else rng.randrange(1, len(forged) - 1)
        neighbours = [forged[n] for n in (at - 1, at + 1) if 0 <= n < len(forged) and forged[n] != forged[at]]
        how = "random" if not neighbours or rng.random() < 0.5 else "neighbour"
        forged[at] = os.urandom(32) if how == "random" else rng.choice(neighbours)
        with pytest.raises(merkle.ProofError):
            check(forged)
        counts[f"{kind} ({how})"] += 1
    print(f"\n{connection.vendor}: forged proof elements refused (seed {SEED + 1}): {dict(counts)}")
    assert sum(counts.values()) >= 250 and len(counts) == 4, counts


def test_a_deletion_passed_off_as_an_old_prune_is_detected(django_capture_on_commit_callbacks):
    rng = random.Random(SEED + 2)
    log = build_log(rng, django_capture_on_commit_callbacks, head_sizes=(150, 300), prune_at=150)
    last_pruned = max(log["pruned"])
    i = max(p for p in log["present"] if p < last_pruned)
    _open_maintenance()
    AuditEvent.objects.filter(seq=log["seqs"][i]).delete()
    PrunedRange.objects.create(start=i, end=i + 1, pruned_at=timezone.now() - dt.timedelta(days=400),
                               event_id=uuid.uuid4(), mac=os.urandom(32))
    report = verify_log()
    assert not report.ok and report.first_bad_leaf == i
