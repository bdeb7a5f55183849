"""Signed tree heads: the signature input of docs/audit-log.md, the schedule, and publication to
the three kinds of witness (a file, syslog over UDP, a webhook), each a real local endpoint."""

from __future__ import annotations

import base64
import hashlib
import json
import socket
import struct
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from django.db import transaction

from custodia.audit import heads, jobs, sequencer
from custodia.audit.models import TreeHead
from custodia.audit.services import audit_record_many
from custodia.customers import events as customer_events
from custodia.kernel.actor import Actor

pytestmark = pytest.mark.django_db


def _record(n: int) -> None:
    with transaction.atomic():
        audit_record_many([dict(actor=Actor.system("tests"), event=customer_events.CUSTOMER_LIST_VIEWED)
                           for _ in range(n)])


def test_head_signature_is_the_documented_ed25519_over_size_time_root():
    _record(3)
    head = heads.sign_head()
    data = heads.head_json(head)
    assert set(data) == {"key_id", "root_hash", "signature", "size", "time", "timestamp"}
    assert data["size"] == 3 == sequencer.log_state().size
    public = serialization.load_pem_public_key(heads.public_key_pem())
    raw = public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    assert data["key_id"] == hashlib.sha256(raw).digest()[:8].hex()
    message = b"CUSTODIA-STH-V1\x00" + struct.pack(">QQ", 3, data["timestamp"]) + base64.b64decode(data["root_hash"])
    assert len(message) == 64
    public.verify(base64.b64decode(data["signature"]), message)  # raises if not
    assert data["time"].endswith("Z") and data["time"][:4].isdigit()


def test_heads_never_go_back_in_time_and_unknown_keys_fail():
    _record(2)
    first = heads.sign_head()
    _record(1)
    second = heads.sign_head()
    assert second.size == 3 and second.timestamp_ms >= first.timestamp_ms
    assert heads.check_signature(second, heads.trusted_keys()) is None
    other = Ed25519PublicKey.from_public_bytes(b"\x01" * 32)
    assert "unknown key" in heads.check_signature(second, {heads.key_id(other): other})
    forged = TreeHead(size=second.size, root_hash=second.root_hash, timestamp_ms=second.timestamp_ms + 1,
                      key_id=second.key_id, signature=second.signature)
    assert heads.check_signature(forged, heads.trusted_keys()) == "signature does not verify"


def test_only_if_grown_signs_nothing_new(settings):
    _record(1)
    assert heads.sign_head(only_if_grown=True) is not None
    assert heads.sign_head(only_if_grown=True) is None
    _record(1)
    assert heads.sign_head(only_if_grown=True).size == 2


def test_file_witness_gets_each_head_and_is_what_verify_compares(settings, tmp_path,
                                                                 django_capture_on_commit_callbacks):
    path = tmp_path / "witness" / "heads.jsonl"
    settings.CUSTODIA_AUDIT_WITNESSES = [f"file:{path}"]
    _record(2)
    with django_capture_on_commit_callbacks(execute=True) as published:  # published once committed
        head = heads.sign_head()
        assert not path.exists()
    assert len(published) == 1
    lines = path.read_text().splitlines()
    assert [json.loads(line) for line in lines] == [heads.head_json(head)]
    assert heads.last_published() == heads.head_json(head)


class _Hook(BaseHTTPRequestHandler):
    received: list = []

    def do_POST(self):  # noqa: N802 - http.server's name
        body = self.rfile.read(int(self.headers["Content-Length"]))
        _Hook.received.append((self.headers["Content-Type"], json.loads(body)))
        self.send_response(204)
        self.end_headers()

    def log_message(self, *args):
        pass


def test_syslog_and_webhook_witnesses_receive_the_head(settings, tmp_path, django_capture_on_commit_callbacks):
    udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    udp.bind(("127.0.0.1", 0))
    udp.settimeout(5)
    server = HTTPServer(("127.0.0.1", 0), _Hook)
    thread = threading.Thread(target=server.handle_request, daemon=True)
    thread.start()
    _Hook.received = []
    settings.CUSTODIA_AUDIT_WITNESSES = [
        f"file:{tmp_path / 'w.jsonl'}", f"syslog:127.0.0.1:{udp.getsockname()[1]}",
        f"http://127.0.0.1:{server.server_port}/sth"]
    try:
        _record(1)
        with django_capture_on_commit_callbacks(execute=True):
            head = heads.sign_head()
        datagram = udp.recv(65535).decode()
        thread.join(5)
    finally:
        udp.close()
        server.server_close()
    assert "custodia-sth " in datagram
    assert json.loads(datagram.split("custodia-sth ", 1)[1].rstrip("\x00")) == heads.head_json(head)
    assert _Hook.received == [("application/json", heads.head_json(head))]


def test_a_failing_witness_never_loses_the_head(settings, tmp_path):
    closed = socket.socket()
    closed.bind(("127.0.0.1", 0))
    port = closed.getsockname()[1]
    closed.close()  # nothing listens there
    settings.CUSTODIA_AUDIT_WITNESSES = [f"http://127.0.0.1:{port}/sth", f"file:{tmp_path / 'w.jsonl'}"]
    _record(1)
    head = heads.sign_head()
    results = heads.publish(head)
    assert results[0][1] is not None and results[1][1] is None  # the webhook failed, the file did not
    assert TreeHead.objects.filter(pk=head.pk).exists()
    assert heads.last_published()["size"] == 1


def test_unknown_witness_kind_is_a_clear_error(settings):
    settings.CUSTODIA_AUDIT_WITNESSES = ["ftp://example"]
    with pytest.raises(ValueError, match="file:PATH"):
        heads.witnesses()


def test_the_minute_job_integrates_and_signs_on_schedule(settings):
    settings.CUSTODIA_AUDIT_HEAD_MINUTES = 10
    _record(4)
    assert jobs.audit_sequence.call_local() == 4  # first head
    _record(1)
    assert jobs.audit_sequence.call_local() is None  # integrated, but the last head is recent
    assert sequencer.log_state().size == 5
    settings.CUSTODIA_AUDIT_HEAD_MINUTES = 0
    assert jobs.audit_sequence.call_local() == 5
    assert jobs.audit_sequence.call_local() is None  # nothing new, and the head is fresh
