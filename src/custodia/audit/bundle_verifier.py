#!/usr/bin/env python3
"""Custodia 证据包验证程序 / Custodia evidence-bundle verifier.

用法 / usage:   python verify.py [BUNDLE]
BUNDLE 为证据包 .zip 或其解压后的文件夹；省略时为本文件所在的文件夹。
BUNDLE is the bundle's .zip or its extracted folder; without it, the folder this file is in.

Needs Python 3.8+ and `cryptography` (pip install cryptography), nothing from Custodia. The byte
formats are those of Custodia's docs/audit-log.md: RFC 9162 Merkle tree hashes, Ed25519-signed tree
heads. Exit status 0 only when every check holds; 1 at the first problem, which is printed.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
import struct
import sys
import zlib
from datetime import datetime, timedelta
from pathlib import Path

from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat, load_pem_public_key

FORMAT = "custodia-evidence-bundle-v1"
STH_PREFIX = b"CUSTODIA-STH-V1\x00"
MANIFEST_PREFIX = b"CUSTODIA-BUNDLE-V1\x00"
REQUIRED = ("tree_head.json", "public_key.pem", "manifest.json", "manifest.sig", "events.jsonl",
            "proofs.json")
EPOCH = datetime(1970, 1, 1)  # times are UTC


class Invalid(Exception):
    """The first problem found: where it is, then what it is in Chinese and in English."""

    def __init__(self, file, zh, en, line=None, event_id=None):
        where_zh = where_en = file
        if line is not None:
            where_zh, where_en = f"{file} 第 {line} 行", f"{file} line {line}"
        if event_id is not None:
            where_zh, where_en = f"{where_zh}（事件 {event_id}）", f"{where_en} (event {event_id})"
        super().__init__(f"{where_zh}：{zh}\n{where_en}: {en}")


# The one zip form Custodia writes: members one after another from the first byte, no data
# descriptors, extra fields or comments, Unix mode 0644, local and central headers agreeing;
# manifest.json and manifest.sig stored as they are, every other member deflated. Deflate can encode
# the same content in more than one way, so the manifest also gives the SHA-256 of each member's
# deflated bytes. Anything else is refused, so that no byte of the zip can change unnoticed.
EOCD, CENTRAL, LOCAL = struct.Struct("<4s4H2LH"), struct.Struct("<4s6H3L5H2L"), struct.Struct("<4s5H3L2H")
MADE_BY, NEEDED, STORED, DEFLATED, MODE = 0x0314, 20, 0, 8, 0o100644 << 16
UNSIGNED = ("manifest.json", "manifest.sig")  # stored, and not listed in the manifest


def read_zip(path):
    """The members of the zip at `path`: ({name: content}, {name: deflated bytes})."""
    raw = path.read_bytes()
    bad = Invalid(path.name, "压缩包结构损坏或被改动", "the zip's structure is damaged or altered")
    end, files, packed, offset = len(raw) - EOCD.size, {}, {}, 0
    if end < 0:
        raise bad
    sig, disk, cd_disk, count_here, count, cd_size, at, comment = EOCD.unpack_from(raw, end)
    if (sig, disk, cd_disk, count_here, comment) != (b"PK\x05\x06", 0, 0, count, 0) or at + cd_size != end:
        raise bad
    cd_start = at
    try:
        for _ in range(count):
            (sig, made_by, needed, flags, method, time, date, crc, stored_size, size, name_len, extra_len,
             comment_len, disk, internal, external, local_at) = CENTRAL.unpack_from(raw, at)
            name = raw[at + CENTRAL.size:at + CENTRAL.size + name_len].decode("ascii")
            at += CENTRAL.size + name_len
            local = (b"PK\x03\x04", NEEDED, 0, method, time, date, crc, stored_size, size, name_len, 0)
            start = offset + LOCAL.size + name_len
            fixed = (sig, made_by, needed, flags, extra_len, comment_len, disk, internal, external, local_at)
            if (not re.fullmatch(r"[A-Za-z0-9_.-]+", name) or name in files
                    or method != (STORED if name in UNSIGNED else DEFLATED)
                    or fixed != (b"PK\x01\x02", MADE_BY, NEEDED, 0, 0, 0, 0, 0, MODE, offset)
                    or LOCAL.unpack_from(raw, offset) != local or raw[offset + LOCAL.size:start] != name.encode()):
                raise bad
            stored, offset = raw[start:start + stored_size], start + stored_size
            data = stored if method == STORED else inflate(stored)
            if data is None or len(data) != size or zlib.crc32(data) != crc:
                raise Invalid(path.name, f"{name} 的数据损坏（压缩数据或 CRC 不符）",
                              f"the data of {name} is damaged (compressed data or CRC)")
            files[name] = data
            if method == DEFLATED:
                packed[name] = stored
    except (struct.error, UnicodeDecodeError):
        raise bad from None
    if at != end or offset != cd_start:
        raise bad
    return files, packed


def inflate(stored):
    """One complete raw deflate stream -> its bytes, else None."""
    stream = zlib.decompressobj(-15)
    try:
        data = stream.decompress(stored)
    except zlib.error:
        return None
    return data if stream.eof and not stream.unused_data else None


def read_folder(path):
    """The files under the folder `path`, by relative name; no deflated bytes to check."""
    files = {p.relative_to(path).as_posix(): p.read_bytes() for p in sorted(path.rglob("*")) if p.is_file()}
    return files, None


def load_json(files, name):
    try:
        value = json.loads(files[name].decode("utf-8"))
    except ValueError:  # also UnicodeDecodeError
        raise Invalid(name, "不是有效的 JSON 对象", "not a valid JSON object") from None
    if not isinstance(value, dict):
        raise Invalid(name, "不是有效的 JSON 对象", "not a valid JSON object")
    return value


def b64(text, length):
    value = base64.b64decode(text, validate=True)
    if len(value) != length or base64.b64encode(value).decode() != text:
        raise ValueError("not canonical base64 of the right length")
    return value


def uint64(value):
    if type(value) is not int or not 0 <= value < 2**64:
        raise ValueError("not an unsigned 64-bit integer")
    return value


def node(left, right):
    return hashlib.sha256(b"\x01" + left + right).digest()


def root_from_proof(index, size, leaf_hash, path):
    """RFC 9162 2.1.3.2: the root that `path` leads to from leaf `index` of a tree of `size`
    leaves, or None when it cannot be a proof for that position (index >= size, wrong length)."""
    if index >= size:
        return None
    fn, sn, r = index, size - 1, leaf_hash
    for p in path:
        if sn == 0:
            return None
        if fn & 1 or fn == sn:
            r = node(p, r)
            while not fn & 1 and fn != 0:
                fn, sn = fn >> 1, sn >> 1
        else:
            r = node(r, p)
        fn, sn = fn >> 1, sn >> 1
    return r if sn == 0 else None


def check_head(files):
    """Steps 1 and 2: the head's fields, its key id and its signature."""
    head = load_json(files, "tree_head.json")
    try:
        size, timestamp, time = uint64(head["size"]), uint64(head["timestamp"]), head["time"]
        root, signature, key_id = b64(head["root_hash"], 32), b64(head["signature"], 64), head["key_id"]
        moment = datetime.strptime(time, "%Y-%m-%dT%H:%M:%S.%fZ")
        if len(time) != 27 or (moment - EPOCH) // timedelta(milliseconds=1) != timestamp:
            raise ValueError("time and timestamp differ")
    except (KeyError, TypeError, ValueError):
        raise Invalid("tree_head.json", "树头字段缺失或格式错误（time 须与 timestamp 一致）",
                      "a field is missing or malformed (time must match timestamp)") from None
    try:
        key = load_pem_public_key(files["public_key.pem"])
    except (ValueError, UnsupportedAlgorithm):
        key = None
    if not isinstance(key, Ed25519PublicKey):
        raise Invalid("public_key.pem", "不是 Ed25519 公钥（PEM）", "not an Ed25519 public key (PEM)")
    real_id = hashlib.sha256(key.public_bytes(Encoding.Raw, PublicFormat.Raw)).digest()[:8].hex()
    if key_id != real_id:
        raise Invalid("tree_head.json", f"key_id {key_id} 与 public_key.pem 的密钥 ID {real_id} 不符",
                      f"key_id {key_id} does not match public_key.pem's key id {real_id}")
    try:
        key.verify(signature, STH_PREFIX + struct.pack(">QQ", size, timestamp) + root)
    except InvalidSignature:
        raise Invalid("tree_head.json", "树头签名无效", "the tree head's signature is invalid") from None
    return key, size, root, time, key_id


def check_manifest(files, packed, key):
    """Steps 3 and 4: the manifest's signature, then every file's SHA-256 (and, in a zip, the
    SHA-256 of its deflated bytes)."""
    signature = files["manifest.sig"]
    try:
        if not signature.endswith(b"\n"):
            raise ValueError("no final newline")
        digest = hashlib.sha256(files["manifest.json"]).digest()
        key.verify(b64(signature[:-1].decode("ascii"), 64), MANIFEST_PREFIX + digest)
    except (InvalidSignature, ValueError):
        raise Invalid("manifest.sig", "manifest.json 的签名无效",
                      "the signature of manifest.json is invalid") from None
    manifest = load_json(files, "manifest.json")
    listed, deflated = manifest.get("files"), manifest.get("deflated")
    if manifest.get("format") != FORMAT or not isinstance(listed, dict) or not isinstance(deflated, dict):
        raise Invalid("manifest.json", f"不是 {FORMAT} 清单", f"not a {FORMAT} manifest")
    others = set(files) - set(UNSIGNED)
    for name in sorted(others | set(listed)):
        if name not in listed:
            raise Invalid(name, "不在清单中", "not listed in the manifest")
        if name not in others:
            raise Invalid(name, "清单中列出，但文件缺失", "listed in the manifest but missing")
        if hashlib.sha256(files[name]).hexdigest() != listed[name]:
            raise Invalid(name, "SHA-256 与清单不符", "SHA-256 does not match the manifest")
        if packed is not None and hashlib.sha256(packed[name]).hexdigest() != deflated.get(name):
            raise Invalid(name, "压缩数据的 SHA-256 与清单不符",
                          "the SHA-256 of its deflated bytes does not match the manifest")
    return manifest


def check_events(files, manifest, size, root):
    """Steps 5 and 6: events and proofs correspond one to one; each event's proof leads to the root."""
    data, proofs = files["events.jsonl"], load_json(files, "proofs.json")
    if data and not data.endswith(b"\n"):
        raise Invalid("events.jsonl", "最后一行缺少换行符", "the last line does not end with a newline")
    lines = data[:-1].split(b"\n") if data else []
    entries, count = proofs.get("proofs"), manifest.get("event_count")
    if not isinstance(entries, list) or proofs.get("tree_size") != size or manifest.get("tree_size") != size:
        raise Invalid("proofs.json", "证明列表缺失，或 tree_size 与树头不符",
                      "no proof list, or tree_size differs from the head's size")
    if not len(lines) == len(entries) == count:
        raise Invalid("events.jsonl", f"{len(lines)} 行，但有 {len(entries)} 条证明，清单记 {count} 个事件",
                      f"{len(lines)} lines, but {len(entries)} proofs and {count} events in the manifest")
    checked, seen = [], set()
    for number, (line, entry) in enumerate(zip(lines, entries), 1):  # noqa: B905 - lengths checked
        try:
            event_id = json.loads(line.decode("utf-8"))["id"]
            if not isinstance(event_id, str):
                raise TypeError("id is not a string")
        except (ValueError, TypeError, KeyError):
            raise Invalid("events.jsonl", "不是含 id 的 JSON 对象", "not a JSON object with an id", number) from None
        try:
            index, proof_id = uint64(entry["leaf_index"]), entry["event_id"]
            hashes = [b64(h, 32) for h in entry["hashes"]]
        except (ValueError, TypeError, KeyError):
            raise Invalid("proofs.json", f"第 {number} 条证明格式错误", f"proof {number} is malformed") from None
        if proof_id != event_id:
            raise Invalid("events.jsonl", f"proofs.json 第 {number} 条证明属于另一事件 {proof_id}",
                          f"proof {number} in proofs.json is for another event, {proof_id}", number, event_id)
        if event_id in seen:
            raise Invalid("events.jsonl", "事件重复", "duplicate event", number, event_id)
        seen.add(event_id)
        checked.append((number, event_id, hashlib.sha256(b"\x00" + line).digest(), index, hashes))
    for number, event_id, leaf_hash, index, hashes in checked:
        if root_from_proof(index, size, leaf_hash, hashes) != root:
            raise Invalid("events.jsonl", f"包含证明（叶子序号 {index}）推不出签名树头的根哈希",
                          f"the inclusion proof (leaf index {index}) does not lead to the signed root hash",
                          number, event_id)
    return len(lines)


def verify(files, packed=None):
    """Every check, in order; returns the report, or raises Invalid at the first problem. `packed`:
    the deflated bytes of each member when reading a zip, None for a folder."""
    for name in REQUIRED:
        if name not in files:
            raise Invalid(name, "文件缺失", "file missing")
    key, size, root, time, key_id = check_head(files)
    count = check_events(files, check_manifest(files, packed, key), size, root)
    return (f"验证通过 / VERIFIED\n事件数 / events: {count}\n树大小 / tree size: {size}\n"
            f"根哈希 / root hash: {base64.b64encode(root).decode()}\n树头时间 / head time: {time}\n"
            f"密钥 ID / key id: {key_id}\n"
            "请将密钥 ID 与运营方另行公布的密钥 ID 核对。/ Check the key id against the one the operator published.")


def main(argv=None):
    """argv: the arguments after the program name (default sys.argv[1:]). Returns the exit status."""
    args = sys.argv[1:] if argv is None else list(argv)
    if len(args) > 1:
        print("用法 / usage: python verify.py [BUNDLE.zip | FOLDER]")
        return 1
    path = Path(args[0]) if args else Path(__file__).resolve().parent
    try:
        print(verify(*(read_folder(path) if path.is_dir() else read_zip(path))))
        return 0
    except Invalid as problem:
        print(f"验证失败 / VERIFICATION FAILED\n{problem}")
    except OSError as error:
        print(f"验证失败 / VERIFICATION FAILED\n{path}：无法读取\n{path}: cannot be read ({error.strerror})")
    except Exception as error:  # noqa: BLE001 - never exit 0 on anything unforeseen
        print(f"验证失败 / VERIFICATION FAILED\n内部错误 / internal error: {error!r}")
    return 1


if __name__ == "__main__":
    if hasattr(sys.stdout, "reconfigure"):
        sys.stdout.reconfigure(errors="replace")  # a console that cannot show Chinese still shows the rest
    sys.exit(main())
