"""Evidence bundles (docs/audit-log.md, "Evidence bundles"): the writer, custodia.audit.bundle_format,
and the standalone verifier shipped as verify.py, custodia.audit.bundle_verifier.

Trees, proofs and heads come from the small RFC 9162 reference below, not from Custodia's own log
code; heads are signed with a fresh Ed25519 key. No database.
"""

from __future__ import annotations

import ast
import base64
import contextlib
import hashlib
import io
import json
import os
import random
import subprocess
import sys
import tracemalloc
import uuid
import zipfile
import zlib
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from custodia.audit import bundle_verifier
from custodia.audit.bundle_format import BundleEvent, write_bundle

GENERATED_AT = "2026-11-28T08:00:00.000000Z"
STAMP = (2026, 11, 28, 8, 0, 0)
TIMESTAMP = 1795822800000  # 2026-11-27T23:40:00Z
FAILED = "验证失败 / VERIFICATION FAILED"


# --- RFC 9162 reference (2.1.1 MTH, 2.1.3.1 PATH) ---------------------------------------------
def leaf_hash(leaf: bytes) -> bytes:
    return hashlib.sha256(b"\x00" + leaf).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    return hashlib.sha256(b"\x01" + left + right).digest()


def split(n: int) -> int:
    """The largest power of two smaller than n (n > 1)."""
    k = 1
    while k * 2 < n:
        k *= 2
    return k


def mth(leaves: list[bytes]) -> bytes:
    if not leaves:
        return hashlib.sha256(b"").digest()
    if len(leaves) == 1:
        return leaf_hash(leaves[0])
    k = split(len(leaves))
    return node_hash(mth(leaves[:k]), mth(leaves[k:]))


def audit_path(m: int, leaves: list[bytes]) -> list[bytes]:
    if len(leaves) == 1:
        return []
    k = split(len(leaves))
    if m < k:
        return audit_path(m, leaves[:k]) + [mth(leaves[k:])]
    return audit_path(m - k, leaves[k:]) + [mth(leaves[:k])]


# --- a log, its heads and bundles -------------------------------------------------------------
def canonical(value) -> bytes:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def event(i: int) -> dict:
    """A canonical version-1 event shaped like the docs' leaf input."""
    rng = random.Random(i)
    ident = lambda: str(uuid.UUID(int=rng.getrandbits(128), version=4))  # noqa: E731
    return {
        "v": 1,
        "id": ident(),
        "time": f"2026-11-27T{i // 3600 % 24:02d}:{i // 60 % 60:02d}:{i % 60:02d}.{rng.randrange(10**6):06d}Z",
        "type": 1100 + i % 5,
        "action": ("customer.viewed", "customer.field.revealed", "customer.updated")[i % 3],
        "actor": {"id": ident(), "label": "张伟" if i % 2 else "li.na", "role": "sales_rep"},
        "request_id": f"req-{i}",
        "source_ip": f"10.0.{i % 250}.7",
        "target": {"type": "customer", "id": ident()},
        "subject": ident(),
        "fields": ["phone", "id_number"][: i % 3],
        "object_ids": [ident() for _ in range(i % 3)],
        "purpose": "客户回访" if i % 3 == 1 else "",
        "outcome": "success" if i % 4 else "denied",
        "detail": {"reason": "scope"} if i % 4 == 0 else {},
        "change": b64(rng.randbytes(48)) if i % 3 == 2 else None,
    }


def public_pem(key: Ed25519PrivateKey) -> bytes:
    return key.public_key().public_bytes(Encoding.PEM, PublicFormat.SubjectPublicKeyInfo)


def key_id(key: Ed25519PrivateKey) -> str:
    return hashlib.sha256(key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)).digest()[:8].hex()


def signed_head(key, leaves, *, timestamp=TIMESTAMP, time="2026-11-27T23:40:00.000000Z", key_id_of=None):
    root = mth(leaves)
    message = b"CUSTODIA-STH-V1\x00" + len(leaves).to_bytes(8, "big") + timestamp.to_bytes(8, "big") + root
    return {"key_id": key_id(key_id_of or key), "root_hash": b64(root), "signature": b64(key.sign(message)),
            "size": len(leaves), "time": time, "timestamp": timestamp}


class Log:
    def __init__(self, size: int):
        self.leaves = [canonical(event(i)) for i in range(size)]

    def event_id(self, i: int) -> str:
        return json.loads(self.leaves[i])["id"]

    def bundle_event(self, i: int, proof_of: int | None = None) -> BundleEvent:
        proof = audit_path(i if proof_of is None else proof_of, self.leaves)
        return BundleEvent(event_id=self.event_id(i), leaf_index=i, leaf_input=self.leaves[i], proof=proof)


@pytest.fixture(scope="module")
def key():
    return Ed25519PrivateKey.generate()


@pytest.fixture(scope="module")
def other_key():
    return Ed25519PrivateKey.generate()


def write(path: Path, key, log: Log, indexes, *, events=None, head=None, pem=None, sign=None) -> dict:
    with path.open("wb") as out:
        return write_bundle(
            out,
            events=[log.bundle_event(i) for i in indexes] if events is None else events,
            head=signed_head(key, log.leaves) if head is None else head,
            public_key_pem=public_pem(key) if pem is None else pem,
            scope={"customer": log.event_id(0)},
            generated_by="compliance.officer",
            generated_at=GENERATED_AT,
            sign=key.sign if sign is None else sign,
        )


def verify(path) -> tuple[int, str]:
    """bundle_verifier.main in process: (exit status, output)."""
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        code = bundle_verifier.main([str(path)])
    return code, out.getvalue()


def assert_rejected(path, *mentions: str) -> str:
    code, out = verify(path)
    assert code == 1, out
    assert out.startswith(FAILED) and "internal error" not in out, out
    for mention in mentions:
        assert mention in out, out
    return out


def members(path: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as bundle:
        return {info.filename: bundle.read(info) for info in bundle.infolist()}


def zip_info(name: str) -> zipfile.ZipInfo:
    """The bundle's zip form, made with zipfile."""
    info = zipfile.ZipInfo(name, STAMP)
    info.compress_type = zipfile.ZIP_STORED if name.startswith("manifest.") else zipfile.ZIP_DEFLATED
    info.create_system, info.external_attr = 3, 0o100644 << 16
    return info


def rezip(path: Path, files: dict[str, bytes] | list[tuple[str, bytes]], *, resign_with=None, **changes) -> Path:
    """A bundle zip around (possibly changed) contents. With `resign_with`, the manifest is re-made
    over them and signed with that key, as someone holding the log key could."""
    items, buffer = list(files.items() if isinstance(files, dict) else files), io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as bundle:
        for name, data in items:
            if resign_with is None or not name.startswith("manifest."):
                bundle.writestr(zip_info(name), data)
        if resign_with is not None:
            raw = buffer.getvalue()
            manifest = {**json.loads(dict(items)["manifest.json"]), **changes}
            manifest["files"] = {n: hashlib.sha256(d).hexdigest() for n, d in items if not n.startswith("manifest.")}
            manifest["deflated"] = {
                i.filename: hashlib.sha256(raw[i.header_offset + 30 + len(i.filename):][:i.compress_size]).hexdigest()
                for i in bundle.infolist()}
            body = canonical(manifest) + b"\n"
            signature = resign_with.sign(b"CUSTODIA-BUNDLE-V1\x00" + hashlib.sha256(body).digest())
            bundle.writestr(zip_info("manifest.json"), body)
            bundle.writestr(zip_info("manifest.sig"), base64.b64encode(signature) + b"\n")
    path.write_bytes(buffer.getvalue())
    return path


def lines_of(files) -> list[bytes]:
    return files["events.jsonl"].splitlines(keepends=True)


# --- the writer -------------------------------------------------------------------------------
class BundleWriterTests:
    def test_files_and_manifest(self, tmp_path, key):
        log = Log(9)
        manifest = write(tmp_path / "b.zip", key, log, [2, 5, 8])
        files = members(tmp_path / "b.zip")
        assert list(files) == ["README.txt", "verify.py", "events.jsonl", "proofs.json", "tree_head.json",
                               "public_key.pem", "manifest.json", "manifest.sig"]
        raw = (tmp_path / "b.zip").read_bytes()
        with zipfile.ZipFile(tmp_path / "b.zip") as bundle:
            infos = {info.filename: info for info in bundle.infolist()}
        others = [n for n in files if not n.startswith("manifest.")]
        assert {n: i.compress_type for n, i in infos.items()} == {
            **{n: zipfile.ZIP_DEFLATED for n in others}, "manifest.json": zipfile.ZIP_STORED,
            "manifest.sig": zipfile.ZIP_STORED}
        deflated = {n: raw[infos[n].header_offset + 30 + len(n):][:infos[n].compress_size] for n in others}
        assert manifest == {
            "format": "custodia-evidence-bundle-v1",
            "scope": {"customer": log.event_id(0)},
            "generated_by": "compliance.officer",
            "generated_at": GENERATED_AT,
            "event_count": 3,
            "tree_size": 9,
            "files": {n: hashlib.sha256(files[n]).hexdigest() for n in others},
            "deflated": {n: hashlib.sha256(deflated[n]).hexdigest() for n in others},
        }
        assert all(zlib.decompress(deflated[n], -15) == files[n] for n in others)
        assert {i.date_time for i in infos.values()} == {STAMP}
        assert files["manifest.json"] == canonical(manifest) + b"\n"
        signature = base64.b64decode(files["manifest.sig"][:-1], validate=True)
        assert files["manifest.sig"] == base64.b64encode(signature) + b"\n"
        key.public_key().verify(signature, b"CUSTODIA-BUNDLE-V1\x00" + hashlib.sha256(files["manifest.json"]).digest())

    def test_events_proofs_and_head(self, tmp_path, key):
        log = Log(9)
        write(tmp_path / "b.zip", key, log, [2, 5, 8])
        files = members(tmp_path / "b.zip")
        assert files["events.jsonl"] == b"".join(log.leaves[i] + b"\n" for i in (2, 5, 8))
        assert "张伟".encode() in files["events.jsonl"]  # UTF-8 as itself, not \u escapes
        proofs = {"proofs": [{"event_id": log.event_id(i), "hashes": [b64(h) for h in audit_path(i, log.leaves)],
                              "leaf_index": i} for i in (2, 5, 8)], "tree_size": 9}
        assert files["proofs.json"] == canonical(proofs) + b"\n"
        assert files["tree_head.json"] == canonical(signed_head(key, log.leaves)) + b"\n"
        assert files["public_key.pem"] == public_pem(key)

    def test_verify_py_and_readme(self, tmp_path, key):
        write(tmp_path / "b.zip", key, Log(3), [1])
        files = members(tmp_path / "b.zip")
        assert files["verify.py"] == Path(bundle_verifier.__file__).read_bytes()
        readme = files["README.txt"].decode()
        for text in ("pip install cryptography", "python verify.py bundle.zip", "如何验证", "How to verify",
                     "假名化", "pseudonymous", "AES-256-GCM", "密钥 ID", "key id"):
            assert text in readme
        for name in files:
            assert readme.count(name) >= 2, name  # explained in both languages

    def test_sign_gets_the_full_message(self, tmp_path, key):
        messages = []
        write(tmp_path / "b.zip", key, Log(3), [0], sign=lambda m: messages.append(m) or key.sign(m))
        body = members(tmp_path / "b.zip")["manifest.json"]
        assert messages == [b"CUSTODIA-BUNDLE-V1\x00" + hashlib.sha256(body).digest()]

    def test_same_inputs_same_bytes_and_unseekable_output(self, tmp_path, key):
        log = Log(6)
        write(tmp_path / "a.zip", key, log, [1, 4])
        write(tmp_path / "b.zip", key, log, [1, 4])
        assert (tmp_path / "a.zip").read_bytes() == (tmp_path / "b.zip").read_bytes()

        class Pipe(io.RawIOBase):  # like a socket or an HTTP response: write only
            def __init__(self):
                self.data = bytearray()

            def writable(self):
                return True

            def write(self, b):
                self.data += b
                return len(b)

        pipe = Pipe()
        write_bundle(pipe, events=[log.bundle_event(i) for i in (1, 4)], head=signed_head(key, log.leaves),
                     public_key_pem=public_pem(key), scope={"customer": log.event_id(0)},
                     generated_by="compliance.officer", generated_at=GENERATED_AT, sign=key.sign)
        assert bytes(pipe.data) == (tmp_path / "a.zip").read_bytes()

    def test_refuses_events_that_cannot_verify(self, tmp_path, key):
        log = Log(4)
        good = log.bundle_event(1)
        bad = {
            "newline": BundleEvent(good.event_id, 1, good.leaf_input + b"\n", good.proof),
            "other id": BundleEvent(log.event_id(2), 1, good.leaf_input, good.proof),
            "not an object": BundleEvent(good.event_id, 1, b"[1]", good.proof),
            "index": BundleEvent(good.event_id, 4, good.leaf_input, good.proof),
            "hash length": BundleEvent(good.event_id, 1, good.leaf_input, [b"x" * 31]),
        }
        for what, event_ in bad.items():
            with pytest.raises(ValueError):
                write(tmp_path / f"{what}.zip", key, log, [], events=[event_])
        with pytest.raises(ValueError, match="twice"):
            write(tmp_path / "twice.zip", key, log, [], events=[good, good])
        with pytest.raises(ValueError, match="64-byte"):
            write(tmp_path / "sig.zip", key, log, [1], sign=lambda m: key.sign(m)[:63])

    def test_streams_many_events(self, tmp_path, key):
        """5,000 events of 4.5 kB, with their proofs 27 MB, written in under 6 MB of Python memory."""
        log = Log(1)
        head = {**signed_head(key, log.leaves), "size": 1 << 20}
        template, proof = json.loads(log.leaves[0]), [bytes([n]) * 32 for n in range(20)]

        def events():  # as a queryset iterator would give them: one at a time
            for i in range(5_000):
                ident = str(uuid.UUID(int=i, version=4))
                yield BundleEvent(ident, i, canonical({**template, "id": ident, "detail": {"n": f"{i:08d}" * 500}}), proof)

        tracemalloc.start()
        try:
            manifest = write(tmp_path / "big.zip", key, log, [], events=events(), head=head)
            peak = tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()
        assert manifest["event_count"] == 5_000
        with zipfile.ZipFile(tmp_path / "big.zip") as bundle:
            assert bundle.getinfo("events.jsonl").file_size + bundle.getinfo("proofs.json").file_size > 27_000_000
        assert peak < 6_000_000, peak


# --- the verifier on good bundles -------------------------------------------------------------
class BundleVerifierTests:
    @pytest.mark.parametrize(
        ("size", "indexes"),
        [(1, [0]), (37, [0]), (37, [36]), (37, [17]), (37, list(range(37))), (64, [0, 31, 32, 63]),
         (5, [4, 0, 2]), (5, [])],
        ids=["tree-of-1", "first", "last", "one-event", "every-event", "power-of-two", "any-order", "no-events"],
    )
    def test_good_bundles_verify(self, tmp_path, key, size, indexes):
        log = Log(size)
        write(tmp_path / "b.zip", key, log, indexes)
        code, out = verify(tmp_path / "b.zip")
        assert code == 0, out
        head = signed_head(key, log.leaves)
        assert out.splitlines() == [
            "验证通过 / VERIFIED",
            f"事件数 / events: {len(indexes)}",
            f"树大小 / tree size: {size}",
            f"根哈希 / root hash: {head['root_hash']}",
            "树头时间 / head time: 2026-11-27T23:40:00.000000Z",
            f"密钥 ID / key id: {key_id(key)}",
            "请将密钥 ID 与运营方另行公布的密钥 ID 核对。/ Check the key id against the one the operator published.",
        ]

    def test_as_a_program_on_the_zip_and_on_the_folder(self, tmp_path, key):
        log = Log(12)
        write(tmp_path / "bundle.zip", key, log, [0, 7, 11])
        folder = tmp_path / "extracted"
        with zipfile.ZipFile(tmp_path / "bundle.zip") as bundle:
            bundle.extractall(folder)
        alone = tmp_path / "alone"
        alone.mkdir()
        (alone / "verify.py").write_bytes((folder / "verify.py").read_bytes())
        env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "DJANGO_SETTINGS_MODULE")}
        env["PYTHONIOENCODING"] = "utf-8"

        def run(*args, cwd):
            done = subprocess.run([sys.executable, "verify.py", *args], cwd=cwd, env=env, capture_output=True,
                                  timeout=60, check=False)
            return done.returncode, done.stdout.decode("utf-8") + done.stderr.decode("utf-8")

        for args, cwd in [((str(tmp_path / "bundle.zip"),), alone), ((str(folder),), alone), ((), folder)]:
            code, out = run(*args, cwd=cwd)
            assert code == 0, out
            assert "验证通过 / VERIFIED" in out and "事件数 / events: 3" in out and "树大小 / tree size: 12" in out
        (folder / "events.jsonl").write_bytes(b"")
        code, out = run(cwd=folder)
        assert code == 1 and out.startswith(FAILED) and "events.jsonl" in out, out
        code, out = run(str(tmp_path / "missing.zip"), cwd=alone)
        assert code == 1 and out.startswith(FAILED), out

    def test_folder_in_process(self, tmp_path, key):
        write(tmp_path / "b.zip", key, Log(5), [3])
        with zipfile.ZipFile(tmp_path / "b.zip") as bundle:
            bundle.extractall(tmp_path / "b")
        assert verify(tmp_path / "b")[0] == 0
        (tmp_path / "b" / "notes.txt").write_text("added")
        assert_rejected(tmp_path / "b", "notes.txt", "不在清单中", "not listed in the manifest")
        (tmp_path / "b" / "notes.txt").unlink()
        (tmp_path / "b" / "README.txt").unlink()
        assert_rejected(tmp_path / "b", "README.txt", "listed in the manifest but missing")

    def test_inclusion_check_against_the_reference(self):
        """root_from_proof is RFC 9162 2.1.3.2, strict about length and index."""
        for size in range(1, 41):
            leaves = [b"leaf %d" % i for i in range(size)]
            root = mth(leaves)
            for i in range(size):
                path, leaf = audit_path(i, leaves), leaf_hash(leaves[i])
                assert bundle_verifier.root_from_proof(i, size, leaf, path) == root
                assert bundle_verifier.root_from_proof(i, size, leaf, path + [root]) is None
                if path:
                    assert bundle_verifier.root_from_proof(i, size, leaf, path[:-1]) != root
                assert bundle_verifier.root_from_proof(i + size, size, leaf, path) is None
                for j in range(size):
                    if j != i:
                        assert bundle_verifier.root_from_proof(j, size, leaf, path) != root

    def test_imports_only_the_standard_library_and_cryptography(self):
        def foreign_imports(source: str) -> list[str]:
            found = []
            for node in ast.walk(ast.parse(source)):
                if isinstance(node, ast.ImportFrom):
                    names = [("." * node.level) + (node.module or "")]
                elif isinstance(node, ast.Import):
                    names = [alias.name for alias in node.names]
                else:
                    continue
                found += [n for n in names if n.startswith(".") or (
                    n.split(".")[0] not in sys.stdlib_module_names and n.split(".")[0] != "cryptography")]
            return found

        source = Path(bundle_verifier.__file__).read_text(encoding="utf-8")
        assert foreign_imports(source) == []
        assert "from cryptography" in source
        assert foreign_imports("import json\nfrom django.conf import settings\nfrom . import models\n") == [
            "django.conf", "."]
        ast.parse(source, feature_version=(3, 8))  # runs on the Python 3 a regulator may have


# --- the verifier on altered bundles ----------------------------------------------------------
@pytest.fixture
def good(tmp_path, key):
    log = Log(9)
    write(tmp_path / "good.zip", key, log, [0, 4, 8])
    return tmp_path / "good.zip", log


class BundleTamperingTests:
    def test_rebuilt_but_unchanged_zip_still_verifies(self, tmp_path, good):
        assert verify(rezip(tmp_path / "same.zip", members(good[0])))[0] == 0

    def test_every_file_every_byte(self, tmp_path, good):
        """Each file, every byte when under 2 kB (else 64 random ones), set to another value."""
        rng, files, changed = random.Random(1), members(good[0]), tmp_path / "changed.zip"
        for name, data in files.items():
            positions = range(len(data)) if len(data) <= 2048 else rng.sample(range(len(data)), 64)
            for position in positions:
                altered = bytearray(data)
                altered[position] ^= rng.randrange(1, 256)
                rezip(changed, {**files, name: bytes(altered)})
                out = assert_rejected(changed)
                assert name in out, (name, position, out)

    def test_raw_zip_bytes(self, tmp_path, good):
        """Every header byte, every other value of each member's last stored byte (a deflate stream's
        last byte has bits zlib ignores), and 400 random bytes anywhere: each change is refused."""
        raw, changed, rng = good[0].read_bytes(), tmp_path / "changed.zip", random.Random(2)
        with zipfile.ZipFile(good[0]) as bundle:
            spans = [(i.header_offset + 30 + len(i.filename), i.compress_size) for i in bundle.infolist()]
        data = {p for start, length in spans for p in range(start, start + length)}
        changes = [(p, raw[p] ^ rng.randrange(1, 256)) for p in range(len(raw)) if p not in data]
        changes += [(start + length - 1, value) for start, length in spans for value in range(256)
                    if value != raw[start + length - 1]]
        changes += [(p, raw[p] ^ rng.randrange(1, 256)) for p in rng.sample(range(len(raw)), 400)]
        assert len(changes) > 2500
        for position, value in changes:
            changed.write_bytes(raw[:position] + bytes([value]) + raw[position + 1:])
            assert_rejected(changed)

    def test_broken_zips(self, tmp_path, good):
        raw = good[0].read_bytes()
        for name, content in {"empty.zip": b"", "text.zip": b"not a zip\n", "cut.zip": raw[:-1],
                              "longer.zip": raw + b"\0", "twice.zip": raw + raw}.items():
            (tmp_path / name).write_bytes(content)
            assert_rejected(tmp_path / name, name)
        assert_rejected(tmp_path / "nowhere.zip", "nowhere.zip", "无法读取", "cannot be read")

    def test_same_content_deflated_otherwise(self, tmp_path, good, key):
        """Deflate can encode one content in many ways; the manifest fixes the bytes in the zip, and
        manifest.json and manifest.sig (which it cannot cover) are stored, not deflated."""
        files = members(good[0])
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w") as bundle:
            for name, data in files.items():
                bundle.writestr(zip_info(name), data, compresslevel=1)
        (tmp_path / "x.zip").write_bytes(buffer.getvalue())
        assert_rejected(tmp_path / "x.zip", "README.txt：压缩数据的 SHA-256 与清单不符",
                        "README.txt: the SHA-256 of its deflated bytes does not match the manifest")
        with zipfile.ZipFile(tmp_path / "x.zip") as bundle:
            bundle.extractall(tmp_path / "folder")
        assert verify(tmp_path / "folder")[0] == 0  # the content is the same
        assert verify(rezip(tmp_path / "y.zip", files, resign_with=key))[0] == 0  # zipfile's own deflate, signed
        for name, method in [("manifest.json", zipfile.ZIP_DEFLATED), ("README.txt", zipfile.ZIP_STORED)]:
            buffer = io.BytesIO()
            with zipfile.ZipFile(buffer, "w") as bundle:
                for other, data in members(tmp_path / "y.zip").items():
                    info = zip_info(other)
                    info.compress_type = method if other == name else info.compress_type
                    bundle.writestr(info, data)
            (tmp_path / "z.zip").write_bytes(buffer.getvalue())
            assert_rejected(tmp_path / "z.zip", "the zip's structure is damaged or altered")

    def test_bad_crc(self, tmp_path, good):
        """A CRC changed in both the local and the central header, so that the headers still agree."""
        raw = bytearray(good[0].read_bytes())
        with zipfile.ZipFile(good[0]) as bundle:
            infos, central = bundle.infolist(), bundle.start_dir
        for info in infos:
            if info.filename == "events.jsonl":
                wrong = (info.CRC ^ 1).to_bytes(4, "little")
                raw[info.header_offset + 14:info.header_offset + 18] = wrong
                raw[central + 16:central + 20] = wrong
            central += 46 + len(info.filename)
        (tmp_path / "crc.zip").write_bytes(raw)
        assert_rejected(tmp_path / "crc.zip", "crc.zip", "events.jsonl", "CRC")

    def test_hidden_bytes_and_doubled_names(self, tmp_path, good):
        """Bytes between the members and the directory, or after the directory's entries, and two
        members of one name: zips that other readers may take, with bytes a check would not see."""
        raw = good[0].read_bytes()
        end = len(raw) - 22
        size, start = int.from_bytes(raw[end + 12:end + 16], "little"), int.from_bytes(raw[end + 16:end + 20], "little")

        def eocd(size, start):
            return raw[end:end + 12] + size.to_bytes(4, "little") + start.to_bytes(4, "little") + raw[end + 20:]

        gap = raw[:start] + b"HIDDEN" + raw[start:end] + eocd(size, start + 6)
        tail = raw[:end] + b"HIDDEN" + eocd(size + 6, start)
        with zipfile.ZipFile(io.BytesIO(gap)) as bundle:
            assert bundle.testzip() is None  # fine for zipfile
        for name, content in {"gap.zip": gap, "tail.zip": tail}.items():
            (tmp_path / name).write_bytes(content)
            assert_rejected(tmp_path / name, name, "the zip's structure is damaged or altered")
        files = members(good[0])
        for doubled in ([("events.jsonl", b"anything\n"), *files.items()], [*files.items(), ("events.jsonl", b"")]):
            with pytest.warns(UserWarning, match="Duplicate name"):
                rezip(tmp_path / "twice.zip", doubled)
            assert_rejected(tmp_path / "twice.zip", "twice.zip", "the zip's structure is damaged or altered")

    def test_extra_or_missing_file(self, tmp_path, good, key):
        files = members(good[0])
        rezip(tmp_path / "extra.zip", {**files, "notes.txt": b"hello\n"})
        assert_rejected(tmp_path / "extra.zip", "notes.txt", "not listed in the manifest")
        for name in files:
            rezip(tmp_path / "less.zip", {n: d for n, d in files.items() if n != name})
            assert_rejected(tmp_path / "less.zip", name)
        rezip(tmp_path / "less.zip", {n: d for n, d in files.items() if n != "README.txt"}, resign_with=key)
        assert verify(tmp_path / "less.zip")[0] == 0  # the README is not evidence: a re-signed bundle may omit it
        rezip(tmp_path / "dir.zip", {**files, "sub/verify.py": files["verify.py"]})
        assert_rejected(tmp_path / "dir.zip", "dir.zip")

    def test_proof_swapped_between_two_events(self, tmp_path, key):
        log = Log(9)
        events = [log.bundle_event(0), log.bundle_event(4, proof_of=8), log.bundle_event(8, proof_of=4)]
        write(tmp_path / "swap.zip", key, log, [], events=events)
        assert_rejected(tmp_path / "swap.zip", f"events.jsonl 第 2 行（事件 {log.event_id(4)}）",
                        f"events.jsonl line 2 (event {log.event_id(4)}): the inclusion proof (leaf index 4)")

    def test_proof_entries_exchanged(self, tmp_path, good, key):
        files, log = members(good[0]), good[1]
        proofs = json.loads(files["proofs.json"])
        proofs["proofs"][1], proofs["proofs"][2] = proofs["proofs"][2], proofs["proofs"][1]
        rezip(tmp_path / "x.zip", {**files, "proofs.json": canonical(proofs) + b"\n"}, resign_with=key)
        assert_rejected(tmp_path / "x.zip", f"events.jsonl line 2 (event {log.event_id(4)}): proof 2 in proofs.json "
                                            f"is for another event, {log.event_id(8)}")

    @pytest.mark.parametrize("how", ["removed", "duplicated"])
    def test_event_line_removed_or_duplicated(self, tmp_path, good, key, how):
        files, log = members(good[0]), good[1]
        lines = lines_of(files)
        lines = lines[:1] + lines[2:] if how == "removed" else lines[:2] + lines[1:]
        edited = {**files, "events.jsonl": b"".join(lines)}
        rezip(tmp_path / "plain.zip", edited)
        assert_rejected(tmp_path / "plain.zip", "events.jsonl", "SHA-256 does not match the manifest")
        rezip(tmp_path / "resigned.zip", edited, resign_with=key)  # even with the log key
        assert_rejected(tmp_path / "resigned.zip", f"events.jsonl: {len(lines)} lines, but 3 proofs and 3 events")
        rezip(tmp_path / "counted.zip", edited, resign_with=key, event_count=len(lines))
        assert_rejected(tmp_path / "counted.zip", f"events.jsonl: {len(lines)} lines, but 3 proofs and {len(lines)} events")
        if how == "duplicated":  # and its proof duplicated too
            proofs = json.loads(files["proofs.json"])
            proofs["proofs"].insert(1, proofs["proofs"][1])
            edited["proofs.json"] = canonical(proofs) + b"\n"
            rezip(tmp_path / "both.zip", edited, resign_with=key, event_count=4)
            assert_rejected(tmp_path / "both.zip", f"events.jsonl line 3 (event {log.event_id(4)}): duplicate event")

    def test_event_without_its_last_newline(self, tmp_path, good, key):
        files = members(good[0])
        rezip(tmp_path / "x.zip", {**files, "events.jsonl": files["events.jsonl"][:-1]}, resign_with=key)
        assert_rejected(tmp_path / "x.zip", "events.jsonl", "newline")

    @pytest.mark.parametrize("change", ["extra hash", "hash missing", "index = size", "index past size",
                                        "other index", "tree_size"])
    def test_strict_proofs(self, tmp_path, good, key, change):
        """Proofs re-signed with the log key but not proving anything are refused."""
        files, log = members(good[0]), good[1]
        proofs = json.loads(files["proofs.json"])
        entry = proofs["proofs"][1]  # leaf 4 of 9
        if change == "extra hash":
            entry["hashes"].append(entry["hashes"][0])
        elif change == "hash missing":
            entry["hashes"].pop()
        elif change == "index = size":
            entry["leaf_index"] = 9
        elif change == "index past size":
            entry["leaf_index"] = 9 + 4
        elif change == "other index":
            entry["leaf_index"] = 5
        else:
            proofs["tree_size"] = 10
        rezip(tmp_path / "x.zip", {**files, "proofs.json": canonical(proofs) + b"\n"}, resign_with=key)
        if change == "tree_size":
            assert_rejected(tmp_path / "x.zip", "proofs.json", "tree_size")
        else:
            assert_rejected(tmp_path / "x.zip", f"events.jsonl line 2 (event {log.event_id(4)})", "inclusion proof")

    def test_head_resigned_with_another_key(self, tmp_path, good, key, other_key):
        files, log = members(good[0]), good[1]

        def with_head(head, pem=None):
            changed = {**files, "tree_head.json": canonical(head) + b"\n"}
            if pem:
                changed["public_key.pem"] = pem
            return rezip(tmp_path / "x.zip", changed, resign_with=key)

        assert_rejected(with_head(signed_head(other_key, log.leaves, key_id_of=key)), "tree_head.json",
                        "the tree head's signature is invalid")
        assert_rejected(with_head(signed_head(other_key, log.leaves)), "tree_head.json",
                        f"key_id {key_id(other_key)} does not match public_key.pem's key id {key_id(key)}")
        # Other key, its public key, manifest still signed by the log key: the manifest fails.
        assert_rejected(with_head(signed_head(other_key, log.leaves), public_pem(other_key)), "manifest.sig")
        # Remade entirely under another key, a bundle is consistent: only its key id gives it away.
        write(tmp_path / "forged.zip", other_key, log, [0, 4, 8])
        code, out = verify(tmp_path / "forged.zip")
        assert code == 0 and f"key id: {key_id(other_key)}" in out and key_id(key) not in out

    def test_manifest_signature_in_other_base64(self, tmp_path, good):
        """The last base64 digit before "==" carries 4 unused bits: another digit there decodes to the
        same signature, yet is a changed byte."""
        files = members(good[0])
        text = files["manifest.sig"]
        assert text.endswith(b"==\n")
        alphabet = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
        digit = alphabet.index(text[-4:-3])
        for other in range(digit & ~0xF, (digit & ~0xF) + 16):
            if other != digit:
                sig = text[:-4] + alphabet[other:other + 1] + b"==\n"
                assert base64.b64decode(sig[:-1]) == base64.b64decode(text[:-1])
                rezip(tmp_path / "x.zip", {**files, "manifest.sig": sig})
                assert_rejected(tmp_path / "x.zip", "manifest.sig")
        for sig in (text[:-1], text + b"\n", b" " + text, text.replace(b"==", b"")):
            rezip(tmp_path / "x.zip", {**files, "manifest.sig": sig})
            assert_rejected(tmp_path / "x.zip", "manifest.sig")

    def test_manifest_of_another_format(self, tmp_path, good, key):
        files = members(good[0])
        rezip(tmp_path / "x.zip", files, resign_with=key, format="custodia-evidence-bundle-v2")
        assert_rejected(tmp_path / "x.zip", "manifest.json", "not a custodia-evidence-bundle-v1 manifest")
        rezip(tmp_path / "x.zip", files, resign_with=key)
        assert verify(tmp_path / "x.zip")[0] == 0

    def test_head_fields(self, tmp_path, good, key):
        files, log = members(good[0]), good[1]
        variants = {
            "time off its timestamp": signed_head(key, log.leaves, time="2026-11-27T23:41:00.000000Z"),
            "time with 3 fraction digits": signed_head(key, log.leaves, time="2026-11-27T23:40:00.000Z"),
            "size as text": {**signed_head(key, log.leaves), "size": "9"},
            "newer head, old root": signed_head(key, log.leaves[:8]) | {"size": 9},
        }
        for head in variants.values():
            rezip(tmp_path / "x.zip", {**files, "tree_head.json": canonical(head) + b"\n"}, resign_with=key)
            assert_rejected(tmp_path / "x.zip", "tree_head.json")
        # A head of the same tree with another timestamp, properly signed, verifies.
        later = signed_head(key, log.leaves, timestamp=TIMESTAMP + 1_234, time="2026-11-27T23:40:01.234000Z")
        rezip(tmp_path / "x.zip", {**files, "tree_head.json": canonical(later) + b"\n"}, resign_with=key)
        assert verify(tmp_path / "x.zip")[0] == 0
        # A head of a bigger tree: the proofs lead elsewhere.
        bigger = Log(10)
        rezip(tmp_path / "x.zip", {**files, "tree_head.json": canonical(signed_head(key, bigger.leaves)) + b"\n"},
              resign_with=key, tree_size=10)
        assert_rejected(tmp_path / "x.zip", "proofs.json")

    def test_failure_message_shape(self, tmp_path, good):
        files = members(good[0])
        rezip(tmp_path / "x.zip", {**files, "README.txt": files["README.txt"] + b" "})
        code, out = verify(tmp_path / "x.zip")
        assert code == 1
        assert out.splitlines() == [FAILED, "README.txt：SHA-256 与清单不符",
                                    "README.txt: SHA-256 does not match the manifest"]
        assert bundle_verifier.main([]) == 1  # the folder of bundle_verifier.py is no bundle
        assert bundle_verifier.main(["a", "b"]) == 1
