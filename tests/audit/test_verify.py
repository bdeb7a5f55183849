"""`custodia audit …` at the console over a log made by real operations: ``verify`` exits 0 when
the log is intact and 1 naming the first bad leaf index or tree head; ``prove``, ``consistency``,
``head`` and ``leaves`` print what docs/audit-log.md promises, checked here with the document's
rules and an independent RFC 9162 implementation (pymerkle); pruning and crypto-shredding leave
the log verifiable."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import json
import re

import pytest
from cryptography.hazmat.primitives import serialization
from django.db import connection
from django.utils import timezone, translation
from pymerkle import InmemoryTree

from custodia.audit import heads, merkle, retention, sequencer, tiles
from custodia.audit.models import AuditEvent, LogState, LogTile, PrunedRange, TreeHead
from custodia.audit.services import decrypt_change
from custodia.cli import main
from custodia.customers import selectors, services
from custodia.customers.exporting import customers_export
from custodia.kernel.actor import Actor
from custodia.protection.crypto import KeyBag, KeyShredded
from custodia.testing.factories import make_customer

pytestmark = pytest.mark.django_db


@pytest.fixture
def cli(capsys, django_capture_on_commit_callbacks):
    """``cli("audit", "verify")`` -> (exit code, stdout, stderr); heads signed on the way are
    published to the test's witness file (their on-commit hook runs)."""

    def run(*args) -> tuple[int, str, str]:
        with translation.override("en"), django_capture_on_commit_callbacks(execute=True):
            code = main([str(a) for a in args])
        captured = capsys.readouterr()
        return code, captured.out, captured.err

    return run


def realistic_flow(org, cli, tmp_path) -> list:
    """Customers created, changed, revealed, viewed, listed and exported through the services,
    with a tree head signed in between (so verification checks one head against the next)."""
    rep, manager = org.actor("rep"), org.actor("manager")
    customers = [make_customer(org.rep) for _ in range(4)]
    assert cli("audit", "sign")[0] == 0
    services.customer_update(actor=rep, customer_id=customers[0].id, data={"stage": "lead", "notes": "季度末复购"})
    services.customer_update(actor=manager, customer_id=customers[1].id, data={"stage": "prospect"})
    services.field_reveal(actor=rep, customer_id=customers[1].id, field="mobile", purpose="contact_customer")
    selectors.customer_list(rep)
    selectors.customer_get(manager, customers[2].id)
    customers_export(actor=rep, out=tmp_path / "customers.csv")
    assert cli("audit", "sign")[0] == 0
    return customers


def payload(out: str) -> str:
    """What a machine-readable command printed (stdout carries nothing else: see
    test_machine_readable_output_is_alone_on_stdout)."""
    return out


def leaves_of(cli, start: int, end: int) -> list[str]:
    code, out, err = cli("audit", "leaves", "--start", start, "--end", end)
    assert code == 0, err
    lines = payload(out).splitlines()
    assert len(lines) == end - start
    return lines


def leaf_hash_of(line: str) -> bytes:
    if line.startswith("pruned:"):
        return base64.b64decode(line[len("pruned:"):])
    return merkle.leaf_hash(base64.b64decode(line))


def head_json(cli) -> dict:
    code, out, err = cli("audit", "head", "--json")
    assert code == 0, err
    return json.loads(payload(out))


def documented_leaf(event: AuditEvent) -> bytes:
    """The leaf input of an event built from docs/audit-log.md alone."""
    def uid(value):
        return None if value is None else str(value)

    obj = {
        "v": 1, "id": str(event.id),
        "time": event.occurred_at.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
        "type": event.event_type, "action": event.action,
        "actor": {"id": uid(event.actor_id), "label": event.actor_label, "role": event.actor_role},
        "request_id": event.request_id, "source_ip": event.source_ip,
        "target": {"type": event.target_type, "id": uid(event.target_id)}, "subject": uid(event.subject_id),
        "fields": event.fields, "object_ids": event.object_ids, "purpose": event.purpose, "outcome": event.outcome,
        "detail": event.detail,
        "change": None if event.change_enc is None else base64.b64encode(bytes(event.change_enc)).decode(),
    }
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def leaf_seqs() -> list[int]:
    """The event seq of every leaf, in leaf order (from the level-0 tiles)."""
    out = []
    for blob in LogTile.objects.filter(level=0).order_by("index").values_list("seqs", flat=True):
        out.extend(tiles.leaf_seqs(bytes(blob)))
    return out


def decrypted_change(event: AuditEvent) -> dict | None:
    return decrypt_change(event, KeyBag.load([event.subject_id]))


def tamper(sql: str, params: list) -> None:
    with connection.cursor() as cursor:
        cursor.execute("INSERT INTO audit_maintenance (reason) VALUES ('test: tamper')")
        cursor.execute(sql, params)
        cursor.execute("DELETE FROM audit_maintenance")


class VerifyCommandTests:
    def test_intact_log_exits_0(self, org, cli, tmp_path):
        realistic_flow(org, cli, tmp_path)
        code, out, err = cli("audit", "verify")
        assert code == 0, out + err
        size = LogState.objects.get().size
        assert "Intact." in out and f"Leaves: {size} ({size} recomputed from their events, 0 pruned" in out
        assert "Tree heads checked: 2" in out and f"last published: size {size}" in out
        assert AuditEvent.objects.filter(action="audit.verified", outcome="success").count() == 1

    def test_a_changed_event_exits_1_naming_the_first_bad_leaf(self, org, cli, tmp_path):
        realistic_flow(org, cli, tmp_path)
        size = LogState.objects.get().size
        index = size // 2
        seq = leaf_seqs()[index]
        tamper("UPDATE audit_auditevent SET actor_label = %s WHERE seq = %s", ["someone else", seq])
        code, out, err = cli("audit", "verify")
        assert code == 1
        assert f"leaf {index}: event" in out and "(the event was changed)" in out
        assert f"the audit log does NOT verify (1 problem(s); first bad leaf index {index})" in err
        recorded = AuditEvent.objects.filter(action="audit.verified").get()
        assert recorded.outcome == "failure" and recorded.detail["first_bad_leaf"] == index

    def test_a_forged_tree_head_exits_1_naming_it(self, org, cli, tmp_path):
        realistic_flow(org, cli, tmp_path)
        first = TreeHead.objects.order_by("id").first()
        tamper("UPDATE audit_treehead SET timestamp_ms = timestamp_ms - 1 WHERE id = %s", [first.id])
        code, out, err = cli("audit", "verify")
        assert code == 1
        assert f"tree head #{first.id}" in out and "signature does not verify" in out
        assert f"first bad tree head #{first.id}" in err and "first bad leaf" not in err

    def test_rolled_back_heads_and_a_truncated_tail_are_caught_by_the_witness_file(self, org, cli, tmp_path):
        realistic_flow(org, cli, tmp_path)
        latest = TreeHead.objects.order_by("-id").first()
        tamper("DELETE FROM audit_treehead WHERE id = %s", [latest.id])
        code, out, err = cli("audit", "verify")
        assert code == 1 and "tree heads were rolled back" in out, out + err
        # ... and the tail behind it: events, tiles and state rewound to the previous head's size.
        size = TreeHead.objects.order_by("-id").first().size
        tamper("DELETE FROM audit_auditevent WHERE seq > %s", [leaf_seqs()[size - 1]])
        LogTile.objects.all().delete()  # the tiles and state recomputed for the shorter log
        LogState.objects.update(size=0, root_hash=merkle.EMPTY_ROOT, last_seq=0)
        sequencer.integrate()
        assert LogState.objects.get().size == size
        code, out, err = cli("audit", "verify")
        assert code == 1 and f"the log has only {size} leaves (its tail was truncated)" in out
        assert f"first bad leaf index {size}" in err


class ProofCommandTests:
    def test_head_prove_consistency_and_leaves_match_the_documented_formats(self, org, cli, tmp_path):
        realistic_flow(org, cli, tmp_path)
        first, latest = TreeHead.objects.order_by("id")
        head = head_json(cli)
        # head --json: exactly the documented keys, a signature by the log's key over the 64 bytes.
        assert sorted(head) == ["key_id", "root_hash", "signature", "size", "time", "timestamp"]
        public = heads.public_key()
        raw = public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
        assert head["key_id"] == hashlib.sha256(raw).digest()[:8].hex()
        root = base64.b64decode(head["root_hash"])
        message = b"CUSTODIA-STH-V1\x00" + head["size"].to_bytes(8, "big") + head["timestamp"].to_bytes(8, "big") + root
        public.verify(base64.b64decode(head["signature"]), message)
        assert head["size"] == latest.size and re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z", head["time"])
        assert dt.datetime.strptime(head["time"], "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=dt.UTC) \
            == dt.datetime.fromtimestamp(head["timestamp"] / 1000, dt.UTC)

        # leaves: the canonical events of the documentation; their RFC 9162 root is the head's.
        lines = leaves_of(cli, 0, head["size"])
        data = [base64.b64decode(line) for line in lines]
        seqs = leaf_seqs()
        by_seq = AuditEvent.objects.in_bulk(seqs)
        for index, seq in enumerate(seqs):
            assert data[index] == documented_leaf(by_seq[seq]), index
            assert json.loads(data[index])["v"] == 1
        assert merkle.reference_root([merkle.leaf_hash(d) for d in data]) == root
        oracle = InmemoryTree(algorithm="sha256")
        for d in data:
            oracle.append_entry(d)
        assert oracle.get_root() == root and oracle.get_root(first.size) == bytes(first.root_hash)
        assert leaves_of(cli, 3, 9) == lines[3:9]

        # prove: the event's leaf hash, by the proof, leads to the head's root.
        for index in (0, 5, head["size"] // 2, head["size"] - 1):
            code, out, err = cli("audit", "prove", by_seq[seqs[index]].id, "--json")
            assert code == 0, err
            proof = json.loads(payload(out))
            assert proof["leaf_index"] == index and proof["tree_size"] == head["size"]
            assert proof["tree_head"] == head and base64.b64decode(proof["leaf_hash"]) == merkle.leaf_hash(data[index])
            merkle.verify_inclusion(merkle.leaf_hash(data[index]), index, head["size"],
                                    [base64.b64decode(h) for h in proof["hashes"]], root)
        code, out, err = cli("audit", "prove", by_seq[seqs[1]].id, "--size", first.size, "--json")
        assert code == 0, err
        proof = json.loads(payload(out))
        merkle.verify_inclusion(merkle.leaf_hash(data[1]), 1, first.size,
                                [base64.b64decode(h) for h in proof["hashes"]], bytes(first.root_hash))

        # consistency: the first head's tree is a prefix of the latest.
        code, out, err = cli("audit", "consistency", first.size, latest.size, "--json")
        assert code == 0, err
        proof = json.loads(payload(out))
        assert (proof["size1"], proof["size2"]) == (first.size, latest.size)
        assert base64.b64decode(proof["root1"]) == bytes(first.root_hash) and base64.b64decode(proof["root2"]) == root
        merkle.verify_consistency(first.size, latest.size, [base64.b64decode(h) for h in proof["hashes"]],
                                  bytes(first.root_hash), root)

        assert cli("audit", "prove", "not-an-id")[0] == 1
        assert cli("audit", "consistency", 1, latest.size + 5)[0] == 1
        assert cli("audit", "leaves", "--start", 0, "--end", latest.size + 1)[0] == 1


def test_machine_readable_output_is_alone_on_stdout(org, cli, tmp_path):
    realistic_flow(org, cli, tmp_path)
    size = LogState.objects.get().size
    event_id = AuditEvent.objects.order_by("seq").values_list("id", flat=True).first()
    for args in (("head", "--json"), ("prove", event_id, "--json"), ("consistency", 1, size, "--json")):
        code, out, err = cli("audit", *args)
        assert code == 0, err
        json.loads(out)
    code, out, err = cli("audit", "leaves", "--start", 0, "--end", size)
    assert code == 0 and len(out.splitlines()) == size
    assert all(base64.b64decode(line, validate=True) for line in out.splitlines())


class RetentionAndShreddingTests:
    def test_pruned_bodies_keep_the_log_verifiable(self, org, cli, tmp_path):
        customers = realistic_flow(org, cli, tmp_path)
        assert cli("audit", "verify")[0] == 0
        later = timezone.now() + dt.timedelta(days=200)  # security events past 6 months, the rest kept
        result = retention.prune(actor=Actor.system("tests"), now=later)
        assert result.count > 0 and result.ranges
        pruned = {i for a, b in result.ranges for i in range(a, b)}
        assert list(PrunedRange.objects.values_list("start", "end")) == result.ranges
        assert cli("audit", "sign")[0] == 0

        code, out, err = cli("audit", "verify")
        assert code == 0, out + err
        assert f"{len(pruned)} pruned" in out

        head = head_json(cli)
        lines = leaves_of(cli, 0, head["size"])
        assert {i for i, line in enumerate(lines) if line.startswith("pruned:")} == pruned
        assert merkle.reference_root([leaf_hash_of(line) for line in lines]) == base64.b64decode(head["root_hash"])

        # Proofs of the events still there verify; a pruned event has none.
        kept = AuditEvent.objects.filter(subject_id=customers[0].id).values_list("id", flat=True)
        assert kept
        for event_id in kept:
            code, out, err = cli("audit", "prove", event_id, "--json")
            assert code == 0, err
            proof = json.loads(payload(out))
            assert proof["leaf_index"] not in pruned
            merkle.verify_inclusion(leaf_hash_of(lines[proof["leaf_index"]]), proof["leaf_index"], head["size"],
                                    [base64.b64decode(h) for h in proof["hashes"]], base64.b64decode(head["root_hash"]))
        assert AuditEvent.objects.filter(action="audit.pruned").exists()
        # Seven months later again, other security events go, but a prune's own record is kept for
        # ever: it vouches for the ranges it marked.
        prune_event = AuditEvent.objects.get(action="audit.pruned")
        again = retention.prune(actor=Actor.system("tests"), now=later + dt.timedelta(days=200))
        assert again.count and AuditEvent.objects.filter(pk=prune_event.pk).exists()
        assert cli("audit", "sign")[0] == 0
        code, out, err = cli("audit", "verify")
        assert code == 0, out + err

    def test_crypto_shredding_a_customer_leaves_the_log_verifiable(self, org, cli, tmp_path):
        customers = realistic_flow(org, cli, tmp_path)
        shredded = customers[0]
        before = head_json(cli)
        lines = leaves_of(cli, 0, before["size"])
        change = AuditEvent.objects.filter(subject_id=shredded.id, action="customer.updated").get()
        assert decrypted_change(change)["after"]["stage"] == "lead"

        code, out, err = cli("shred", "customer", shredded.id, "--reason", "erasure_request", "--yes")
        assert code == 0, out + err
        assert cli("audit", "sign")[0] == 0
        code, out, err = cli("audit", "verify")
        assert code == 0, out + err
        assert leaves_of(cli, 0, before["size"]) == lines  # ciphertext and hashes unchanged
        with pytest.raises(KeyShredded):
            decrypted_change(change)  # ... but the change no longer decrypts
        code, out, err = cli("audit", "consistency", before["size"], head_json(cli)["size"], "--json")
        assert code == 0, err


def test_verify_of_an_empty_log_passes(cli):
    code, out, err = cli("audit", "verify")
    assert code == 0, out + err
    assert "Leaves: 0 (0 recomputed" in out and "last published: none" in out
