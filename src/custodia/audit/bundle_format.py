"""Evidence bundles: writing the zip of docs/audit-log.md, "Evidence bundles".

No database access: the caller (the bundle service behind `custodia audit bundle`) selects the
events, their inclusion proofs against one signed tree head, and passes a signing function for the
log's key. The verifier shipped inside every bundle as verify.py is bundle_verifier.py next to this
module; it accepts exactly the zip form _Zip writes (see bundle_verifier.read_zip).
"""

from __future__ import annotations

import base64
import hashlib
import json
import shutil
import struct
import tempfile
import zlib
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import BinaryIO

FORMAT = "custodia-evidence-bundle-v1"
MANIFEST_SIGNING_PREFIX = b"CUSTODIA-BUNDLE-V1\x00"
VERIFIER_PATH = Path(__file__).with_name("bundle_verifier.py")
_CHUNK = 1 << 20


@dataclass(frozen=True)
class BundleEvent:
    event_id: str  # UUID string
    leaf_index: int
    leaf_input: bytes  # canonical JSON bytes (no newline inside)
    proof: list[bytes]  # inclusion proof hashes against the head


def canonical_json(value) -> bytes:
    """The docs' canonical JSON (sorted keys, no whitespace, UTF-8 as itself), without a newline."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def write_bundle(
    out: BinaryIO,
    *,
    events: Iterable[BundleEvent],
    head: dict,
    public_key_pem: bytes,
    scope: dict,
    generated_by: str,
    generated_at: str,
    sign: Callable[[bytes], bytes],
) -> dict:
    """Write the bundle zip to `out` and return its manifest.

    `events` (any iterable, read once, streamed) must all be proven against `head`, the signed head
    object of the docs; `sign(message)` returns the raw 64-byte Ed25519 signature of the log key over
    the full manifest signing message. `generated_at` (ISO 8601, UTC) also dates the zip entries, so
    the same inputs give the same bytes. Raises ValueError on an event that cannot verify by
    construction (newline in its leaf input, id not the event's, index outside the tree, duplicate).
    """
    about = {"scope": scope, "generated_by": generated_by, "generated_at": generated_at}
    target = out if _seekable(out) else tempfile.TemporaryFile()  # headers are written after the data
    try:
        bundle = _Zip(target, datetime.fromisoformat(generated_at))
        manifest = _write_members(bundle, events, head, public_key_pem, about, sign)
        bundle.close()
        if target is not out:
            target.seek(0)
            shutil.copyfileobj(target, out, _CHUNK)
    finally:
        if target is not out:
            target.close()
    return manifest


def _write_members(bundle: _Zip, events, head: dict, public_key_pem: bytes, about: dict, sign) -> dict:
    tree_size, files, deflated = head["size"], {}, {}

    def add(name: str, chunks: Iterable[bytes]) -> None:
        files[name], deflated[name] = bundle.add(name, chunks)

    add("README.txt", [README.encode()])
    add("verify.py", [VERIFIER_PATH.read_bytes()])
    with tempfile.TemporaryFile() as proofs:
        lines = _EventLines(events, tree_size, proofs)
        add("events.jsonl", lines)
        proofs.write(b'],"tree_size":%d}\n' % tree_size)
        proofs.seek(0)
        add("proofs.json", iter(lambda: proofs.read(_CHUNK), b""))
    add("tree_head.json", [canonical_json(head) + b"\n"])
    add("public_key.pem", [public_key_pem])
    manifest = {"format": FORMAT, **about, "event_count": lines.count, "tree_size": tree_size,
                "files": files, "deflated": deflated}
    manifest_bytes = canonical_json(manifest) + b"\n"
    signature = sign(MANIFEST_SIGNING_PREFIX + hashlib.sha256(manifest_bytes).digest())
    if len(signature) != 64:
        raise ValueError("sign() must return a raw 64-byte Ed25519 signature")
    bundle.add("manifest.json", [manifest_bytes], deflate=False)
    bundle.add("manifest.sig", [base64.b64encode(signature) + b"\n"], deflate=False)
    return manifest


class _EventLines:
    """Yields events.jsonl line by line, writing each event's proofs.json entry to `proofs` as it
    goes, so that neither file is ever held whole in memory."""

    def __init__(self, events: Iterable[BundleEvent], tree_size: int, proofs: BinaryIO):
        self.events, self.tree_size, self.proofs, self.count = events, tree_size, proofs, 0

    def __iter__(self) -> Iterator[bytes]:
        seen: set[str] = set()
        self.proofs.write(b'{"proofs":[')
        for event in self.events:
            _check_event(event, self.tree_size, seen)
            entry = {
                "event_id": event.event_id,
                "hashes": [base64.b64encode(h).decode() for h in event.proof],
                "leaf_index": event.leaf_index,
            }
            self.proofs.write((b"," if self.count else b"") + canonical_json(entry))
            self.count += 1
            yield event.leaf_input + b"\n"


def _check_event(event: BundleEvent, tree_size: int, seen: set[str]) -> None:
    if b"\n" in event.leaf_input:
        raise ValueError(f"event {event.event_id}: a newline in its leaf input")
    try:
        same_id = json.loads(event.leaf_input)["id"] == event.event_id
    except (ValueError, TypeError, KeyError):
        same_id = False
    if not same_id:
        raise ValueError(f"event {event.event_id}: its leaf input is not a JSON object with that id")
    if not 0 <= event.leaf_index < tree_size:
        raise ValueError(f"event {event.event_id}: leaf index {event.leaf_index} outside a tree of {tree_size}")
    if any(len(h) != 32 for h in event.proof):
        raise ValueError(f"event {event.event_id}: a proof hash is not 32 bytes")
    if event.event_id in seen:
        raise ValueError(f"event {event.event_id}: twice in one bundle")
    seen.add(event.event_id)


class _Zip:
    """The one zip form bundle_verifier.read_zip accepts: members one after another, each local
    header written once its sizes are known (so no data descriptors), no extra fields or comments,
    Unix mode 0644, version 2.0, all dated `moment`. zipfile would also do, but leaves these choices
    to its version and platform."""

    LOCAL, CENTRAL, END = struct.Struct("<4s5H3L2H"), struct.Struct("<4s6H3L5H2L"), struct.Struct("<4s4H2LH")

    def __init__(self, out: BinaryIO, moment: datetime):
        if moment.tzinfo is not None:
            moment = moment.astimezone(UTC)
        moment = max(moment.replace(tzinfo=None), datetime(1980, 1, 1))
        self.time = moment.hour << 11 | moment.minute << 5 | moment.second // 2
        self.date = (moment.year - 1980) << 9 | moment.month << 5 | moment.day
        self.out, self.base, self.members = out, out.tell(), []

    def add(self, name: str, chunks: Iterable[bytes], *, deflate: bool = True) -> tuple[str, str]:
        """Write one member; returns the SHA-256 hex of its content and of the bytes stored."""
        encoded, at = name.encode("ascii"), self.out.tell()
        self.out.write(bytes(self.LOCAL.size + len(encoded)))  # the header comes once the sizes are known
        content, stored = hashlib.sha256(), hashlib.sha256()
        squeeze = zlib.compressobj(6, zlib.DEFLATED, -15) if deflate else None
        crc = size = stored_size = 0
        for chunk in chunks:
            content.update(chunk)
            crc, size = zlib.crc32(chunk, crc), size + len(chunk)
            stored_size += self._put(squeeze.compress(chunk) if squeeze else chunk, stored)
        if squeeze:
            stored_size += self._put(squeeze.flush(), stored)
        if max(size, stored_size, at - self.base) >= 1 << 32:
            raise ValueError(f"{name}: past 4 GiB, beyond a plain zip")
        fields = (20, 0, 8 if deflate else 0, self.time, self.date, crc, stored_size, size, len(encoded))
        end = self.out.tell()
        self.out.seek(at)
        self.out.write(self.LOCAL.pack(b"PK\x03\x04", *fields, 0) + encoded)
        self.out.seek(end)
        self.members.append((fields, encoded, at - self.base))
        return content.hexdigest(), stored.hexdigest()

    def _put(self, data: bytes, digest) -> int:
        digest.update(data)
        self.out.write(data)
        return len(data)

    def close(self) -> None:
        start = self.out.tell()
        if start - self.base >= 1 << 32:
            raise ValueError("past 4 GiB, beyond a plain zip")
        for fields, encoded, offset in self.members:
            header = self.CENTRAL.pack(b"PK\x01\x02", 0x0314, *fields, 0, 0, 0, 0, 0o100644 << 16, offset)
            self.out.write(header + encoded)
        count, size = len(self.members), self.out.tell() - start
        self.out.write(self.END.pack(b"PK\x05\x06", 0, 0, count, count, size, start - self.base, 0))


def _seekable(out: BinaryIO) -> bool:
    try:
        return out.seekable()
    except (AttributeError, OSError, ValueError):
        return False


README = """\
Custodia 审计证据包 / Custodia audit evidence bundle
=====================================================

【中文】

本包收录 Custodia 审计日志中的若干审计事件，并附有证明：这些事件一字不差地记录在
一份经签名的、只可追加的审计日志（RFC 9162 Merkle 树）中。包内任何一个字节被改动，
验证都会失败。

如何验证
  1. 安装 Python 3 和 cryptography 库：
         pip install cryptography
  2. 运行：
         python verify.py bundle.zip
     （也可以先解压，在解压出的文件夹中运行 python verify.py。）
  3. 显示“验证通过”且退出码为 0，表示全部检查成立；否则程序指出第一个问题所在的
     文件，对事件还给出行号和事件编号。
  4. 将显示的密钥 ID 与运营方另行公布的审计日志密钥 ID（或见证方保存的树头）核对：
     用别的密钥重新签名的包同样能自洽，但密钥 ID 不同。
  verify.py 只使用 Python 标准库和 cryptography，请先阅读它，或使用从可信渠道取得的
  副本；也可以按 Custodia 的 docs/audit-log.md 独立实现这些检查。

文件说明
  events.jsonl    每行一个审计事件（规范化 JSON）；一行的字节（不含换行符）即 Merkle 树的叶子输入
  proofs.json     每个事件的包含证明（叶子序号和哈希路径），顺序与 events.jsonl 相同
  tree_head.json  这些证明所指向的签名树头：树大小、时间、根哈希、Ed25519 签名、密钥 ID
  public_key.pem  审计日志的 Ed25519 公钥
  manifest.json   本包的范围、生成者、生成时间，以及其余每个文件的 SHA-256（内容及其在 zip 中的压缩数据）
  manifest.sig    对 manifest.json 的 Ed25519 签名（base64）
  verify.py       验证程序
  README.txt      本说明

个人信息
  事件中没有明文个人信息：客户以假名化的 UUID 表示，变更内容是用该客户专属密钥加密的
  AES-256-GCM 密文。删除客户时销毁的是密钥而不是密文，因此哈希不变，本包仍可验证。

【English】

This bundle holds audit events from Custodia's audit log, with the proof that each of them is
recorded, byte for byte, in a signed, append-only audit log (an RFC 9162 Merkle tree). Changing any
single byte of the bundle makes verification fail.

How to verify
  1. Install Python 3 and the cryptography library:
         pip install cryptography
  2. Run:
         python verify.py bundle.zip
     (or extract the zip and run python verify.py inside the extracted folder).
  3. "VERIFIED" and exit status 0 mean that every check holds; otherwise the verifier names the
     first problem: the file and, for an event, its line number and event id.
  4. Compare the key id shown with the audit-log key id the operator publishes separately (or with
     tree heads kept by a witness): a bundle re-signed under another key is just as consistent,
     but shows another key id.
  verify.py needs only the Python standard library and cryptography. Read it first, or use a copy
  from a trusted source; the checks can also be written independently from Custodia's
  docs/audit-log.md.

Files
  events.jsonl    one audit event a line (canonical JSON); a line's bytes, without the newline,
                  are its Merkle leaf input
  proofs.json     each event's inclusion proof (leaf index and hash path), in the order of events.jsonl
  tree_head.json  the signed tree head the proofs lead to: size, time, root hash, Ed25519 signature, key id
  public_key.pem  the audit log's Ed25519 public key
  manifest.json   what the bundle covers, who made it and when, and the SHA-256 of every other file (its
                  content, and its deflated bytes in the zip)
  manifest.sig    the Ed25519 signature of manifest.json (base64)
  verify.py       the verifier
  README.txt      this file

Personal data
  No personal data appears in clear: customers are pseudonymous UUIDs, and changes are AES-256-GCM
  ciphertext under the customer's own key. Erasing a customer destroys the key, not the ciphertext,
  so every hash stays the same and this bundle still verifies.
"""
