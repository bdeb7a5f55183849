"""RFC 9162 (Certificate Transparency v2) Merkle tree hashing, proofs and compact ranges.

Pure functions over bytes, standard library only, no Django: the audit log's services, the
``custodia audit`` commands and the evidence bundle's verifier all share these definitions, and
docs/audit-log.md fixes the same rules for outside parties.

- Leaf hash ``SHA-256(0x00 || data)``, interior node ``SHA-256(0x01 || left || right)``, the
  empty tree's root ``SHA-256("")`` (RFC 9162 section 2.1). Leaf indexes are 0-based.
- A node is named by ``NodeId = (level, index)``: the complete subtree of ``2**level`` leaves
  starting at leaf ``index * 2**level``. Only complete subtrees are ever stored; the tree of
  ``size`` leaves is the fold of ``root_nodes(size)``.
- Proof construction and verification port transparency-dev/merkle (Go): ``proof/proof.go``
  (``Nodes``, ``Inclusion``, ``Consistency``), ``proof/verify.go`` and ``compact/range.go``
  (``Frontier`` is a compact range that always starts at leaf 0).
- ``reference_*`` are the recursive definitions of RFC 9162 2.1.1, 2.1.3.1 and 2.1.4.1,
  quadratic and slow: they exist so tests can check the fast code against the text of the RFC.

Tree sizes are unsigned 64-bit numbers, as in signed tree heads: every function rejects a size
of ``2**64`` or more.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from hmac import compare_digest

__all__ = [
    "EMPTY_ROOT",
    "HASH_SIZE",
    "Frontier",
    "NodeId",
    "Nodes",
    "ProofError",
    "consistency_nodes",
    "fold_root",
    "inclusion_nodes",
    "leaf_hash",
    "node_hash",
    "reference_consistency_proof",
    "reference_inclusion_proof",
    "reference_root",
    "root_from_consistency_proof",
    "root_from_inclusion_proof",
    "root_nodes",
    "verify_consistency",
    "verify_inclusion",
]

HASH_SIZE = 32
_MAX_SIZE = 1 << 64  # sizes are uint64 (signed tree heads encode them in 8 bytes)
_sha256 = hashlib.sha256
EMPTY_ROOT: bytes = _sha256(b"").digest()

NodeId = tuple[int, int]


def leaf_hash(data: bytes) -> bytes:
    """RFC 9162 leaf hash: SHA-256(0x00 || data)."""
    return _sha256(b"\x00" + data).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    """RFC 9162 interior node hash: SHA-256(0x01 || left || right)."""
    return _sha256(b"\x01" + left + right).digest()


class ProofError(ValueError):
    """A proof does not verify; the message says what is wrong with it."""


# ---------------------------------------------------------------------------------------------
# Node ids and compact ranges (compact/nodes.go, compact/range.go)


def _check_size(name: str, size: int) -> None:
    if not 0 <= size < _MAX_SIZE:
        raise ValueError(f"{name} {size} is out of range [0, 2**64)")


def _decompose(begin: int, end: int) -> tuple[int, int]:
    """compact.Decompose: bitmasks of the subtree sizes covering [begin, end), left and right."""
    if begin == 0:
        return 0, end
    xbegin = begin - 1
    mask = (1 << ((xbegin ^ end).bit_length() - 1)) - 1
    return ~xbegin & mask, end & mask


def _range_nodes(begin: int, end: int) -> list[NodeId]:
    """compact.RangeNodes: the complete subtrees that make up [begin, end), left to right."""
    left, right = _decompose(begin, end)
    ids: list[NodeId] = []
    pos = begin
    while left:  # the left border, lower levels first
        level = (left & -left).bit_length() - 1
        ids.append((level, pos >> level))
        pos += 1 << level
        left ^= 1 << level
    while right:  # the right border, upper levels first
        level = right.bit_length() - 1
        ids.append((level, pos >> level))
        pos += 1 << level
        right ^= 1 << level
    return ids


def root_nodes(size: int) -> list[NodeId]:
    """The complete subtrees, left to right (largest first), whose fold is the tree of ``size``."""
    _check_size("size", size)
    return _range_nodes(0, size)


def fold_root(hashes: Sequence[bytes]) -> bytes:
    """Root of a tree from the hashes of its ``root_nodes``, folded right to left.

    ``EMPTY_ROOT`` for no hashes.
    """
    if not hashes:
        return EMPTY_ROOT
    sha = _sha256
    it = reversed(hashes)
    root = next(it)
    for left in it:
        root = sha(b"\x01" + left + root).digest()
    return root


# ---------------------------------------------------------------------------------------------
# Which stored nodes make a proof (proof/proof.go)


@dataclass(frozen=True)
class Nodes:
    """How to build one proof from stored complete-subtree nodes (Go ``proof.Nodes``).

    Fetch the hashes of ``ids`` in order and pass them to ``rehash``. A proof against a tree
    whose size is not a power of two may need one node that is not a complete subtree, the
    ephemeral node ``ephem`` on the ragged right edge: ``ids[begin:end]`` are the complete
    subtrees under it, lowest level first, and ``rehash`` folds them into its hash. When
    ``begin == end`` there is no ephemeral node and ``ephem`` is meaningless.
    """

    ids: tuple[NodeId, ...]
    begin: int = 0
    end: int = 0
    ephem: NodeId = (0, 0)

    def rehash(self, hashes: Sequence[bytes]) -> list[bytes]:
        """The proof, from the hashes fetched for ``ids`` (same order and length)."""
        if len(hashes) != len(self.ids):
            raise ValueError(f"got {len(hashes)} hashes for {len(self.ids)} node ids")
        begin, end = self.begin, self.end
        if end - begin < 2:
            return list(hashes)
        ephem = hashes[begin]
        for i in range(begin + 1, end):
            ephem = node_hash(hashes[i], ephem)
        return [*hashes[:begin], ephem, *hashes[end:]]

    def _skip_first(self) -> Nodes:
        begin, end = self.begin, self.end
        if begin < end:
            begin, end = begin - 1, end - 1
        return Nodes(self.ids[1:], begin, end, self.ephem)


def _nodes(index: int, level: int, size: int) -> Nodes:
    """The nodes proving that node (level, index) is in the tree of ``size`` (Go ``nodes``).

    The first id is (level, index) itself; callers that know it skip it.
    """
    # The fork is where the path from the root to (level, index) leaves the path to leaf
    # `size`; the fork's sibling is the ephemeral node, covering [end, size).
    inner = (index ^ (size >> level)).bit_length() - 1
    fork_level, fork_index = level + inner, index >> inner
    begin, end = fork_index << fork_level, (fork_index + 1) << fork_level

    ids: list[NodeId] = [(level, index)]
    while level < fork_level:  # siblings on the way up to the fork
        ids.append((level, index ^ 1))
        level, index = level + 1, index >> 1
    len1 = len(ids)
    ids.extend(reversed(_range_nodes(end, size)))  # the ephemeral node's parts, lowest first
    len2 = len(ids)
    ids.extend(reversed(_range_nodes(0, begin)))  # what lies left of the fork, lowest first
    if len1 >= len2:
        len1 = len2 = 0
    return Nodes(tuple(ids), len1, len2, (fork_level, fork_index ^ 1))


def inclusion_nodes(index: int, size: int) -> Nodes:
    """Nodes of the inclusion proof of leaf ``index`` in the tree of ``size`` (0 <= index < size)."""
    _check_size("size", size)
    if not 0 <= index < size:
        raise ValueError(f"index {index} is out of bounds for tree size {size}")
    return _nodes(index, 0, size)._skip_first()


def consistency_nodes(size1: int, size2: int) -> Nodes:
    """Nodes of the consistency proof between tree sizes ``size1`` and ``size2``.

    Requires 0 < size1 <= size2; equal sizes give the empty proof.
    """
    _check_size("size2", size2)
    if size1 > size2:
        raise ValueError(f"size1 {size1} > size2 {size2}")
    if size1 <= 0:
        raise ValueError(f"size1 is {size1}: a consistency proof from the empty tree is meaningless")
    if size1 == size2:
        return Nodes(())
    # The largest complete subtree ending at size1; its inclusion proof in the tree of size2
    # is the consistency proof, preceded by the subtree itself unless it is the whole old tree.
    level = ((size1 & -size1).bit_length()) - 1
    nodes = _nodes((size1 - 1) >> level, level, size2)
    if size1 & (size1 - 1) == 0:
        return nodes._skip_first()
    return nodes


# ---------------------------------------------------------------------------------------------
# Verification (proof/verify.go)


def _check_hashes(proof: Sequence[bytes]) -> None:
    for i, h in enumerate(proof):
        if not isinstance(h, bytes | bytearray) or len(h) != HASH_SIZE:
            got = f"{len(h)} bytes" if isinstance(h, bytes | bytearray) else type(h).__name__
            raise ProofError(f"proof hash {i} is {got}, expected {HASH_SIZE} bytes")


def _check_proof_len(proof: Sequence[bytes], want: int) -> None:
    if len(proof) != want:
        raise ProofError(f"proof has {len(proof)} hashes, expected {want}")


def _check_match(what: str, calculated: bytes, expected: bytes) -> None:
    if not (isinstance(expected, bytes | bytearray) and compare_digest(calculated, expected)):
        shown = expected.hex() if isinstance(expected, bytes | bytearray) else repr(expected)
        raise ProofError(f"calculated {what} {calculated.hex()} does not match expected {what} {shown}")


def _decomp_incl_proof(index: int, size: int) -> tuple[int, int]:
    """Proof length of leaf ``index`` in tree ``size``: hashes below, and on, the right border."""
    inner = (index ^ (size - 1)).bit_length()
    return inner, bin(index >> inner).count("1")


def root_from_inclusion_proof(leaf_hash: bytes, index: int, size: int, proof: Sequence[bytes]) -> bytes:
    """The root of the tree of ``size`` implied by ``proof`` for leaf ``index``; raises ProofError."""
    if not 0 <= size < _MAX_SIZE:
        raise ProofError(f"tree size {size} is out of range [0, 2**64)")
    if not 0 <= index < size:
        raise ProofError(f"index {index} is out of bounds for tree size {size}")
    if not isinstance(leaf_hash, bytes | bytearray) or len(leaf_hash) != HASH_SIZE:
        raise ProofError(f"leaf hash is {len(leaf_hash)} bytes, expected {HASH_SIZE}")
    inner, border = _decomp_incl_proof(index, size)
    _check_proof_len(proof, inner + border)
    _check_hashes(proof)
    sha = _sha256
    seed = bytes(leaf_hash)
    for i in range(inner):
        if (index >> i) & 1:
            seed = sha(b"\x01" + proof[i] + seed).digest()
        else:
            seed = sha(b"\x01" + seed + proof[i]).digest()
    for i in range(inner, inner + border):
        seed = sha(b"\x01" + proof[i] + seed).digest()
    return seed


def verify_inclusion(leaf_hash: bytes, index: int, size: int, proof: Sequence[bytes], root: bytes) -> None:
    """Check that leaf ``index`` with ``leaf_hash`` is in the tree of ``size`` and ``root``.

    Raises ProofError saying what is wrong.
    """
    _check_match("root", root_from_inclusion_proof(leaf_hash, index, size, proof), root)


def root_from_consistency_proof(size1: int, size2: int, proof: Sequence[bytes], root1: bytes) -> bytes:
    """The root of the tree of ``size2`` implied by ``proof`` from the tree of ``size1`` and ``root1``.

    Checks ``root1`` against the proof on the way; raises ProofError. Requires 0 < size1 <= size2:
    a consistency proof from the empty tree proves nothing and is rejected. For equal sizes the
    proof must be empty and ``root1`` is returned as it is.
    """
    if not 0 <= size2 < _MAX_SIZE:
        raise ProofError(f"size2 {size2} is out of range [0, 2**64)")
    if size1 > size2:
        raise ProofError(f"size1 {size1} > size2 {size2}")
    if size1 <= 0:
        raise ProofError(f"size1 is {size1}: a consistency proof from the empty tree is meaningless")
    if size1 == size2:
        _check_proof_len(proof, 0)
        return root1
    if not isinstance(root1, bytes | bytearray) or len(root1) != HASH_SIZE:
        raise ProofError(f"root1 is {len(root1)} bytes, expected {HASH_SIZE}")

    inner, border = _decomp_incl_proof(size1 - 1, size2)
    shift = (size1 & -size1).bit_length() - 1
    inner -= shift  # shift < inner because size1 < size2
    # The proof starts with the hash of the largest complete subtree ending at size1, unless
    # that subtree is the whole old tree, whose root the verifier already has.
    start = 0 if size1 == 1 << shift else 1
    _check_proof_len(proof, start + inner + border)
    _check_hashes(proof)
    seed = bytes(root1) if start == 0 else proof[0]
    mask = (size1 - 1) >> shift

    sha = _sha256
    hash1 = hash2 = seed
    for i in range(inner):
        h = proof[start + i]
        if (mask >> i) & 1:
            hash1 = sha(b"\x01" + h + hash1).digest()
            hash2 = sha(b"\x01" + h + hash2).digest()
        else:  # a node to the right of the old tree: only in the new one
            hash2 = sha(b"\x01" + hash2 + h).digest()
    for i in range(start + inner, start + inner + border):
        h = proof[i]
        hash1 = sha(b"\x01" + h + hash1).digest()
        hash2 = sha(b"\x01" + h + hash2).digest()
    _check_match("root1", hash1, root1)
    return hash2


def verify_consistency(size1: int, size2: int, proof: Sequence[bytes], root1: bytes, root2: bytes) -> None:
    """Check that the tree of ``size2`` and ``root2`` extends the tree of ``size1`` and ``root1``.

    Raises ProofError saying what is wrong.
    """
    _check_match("root2", root_from_consistency_proof(size1, size2, proof, root1), root2)


# ---------------------------------------------------------------------------------------------
# The RFC's recursive definitions, for tests


def _split(n: int) -> int:
    """The largest power of two smaller than n (n >= 2)."""
    return 1 << ((n - 1).bit_length() - 1)


def reference_root(leaf_hashes: Sequence[bytes]) -> bytes:
    """MTH of RFC 9162 2.1.1 over leaf hashes, recursively (slow; for tests)."""
    n = len(leaf_hashes)
    if n == 0:
        return EMPTY_ROOT
    if n == 1:
        return leaf_hashes[0]
    k = _split(n)
    return node_hash(reference_root(leaf_hashes[:k]), reference_root(leaf_hashes[k:]))


def reference_inclusion_proof(leaf_hashes: Sequence[bytes], index: int) -> list[bytes]:
    """PATH(index, D[n]) of RFC 9162 2.1.3.1, recursively (slow; for tests)."""
    n = len(leaf_hashes)
    if not 0 <= index < n:
        raise ValueError(f"index {index} is out of bounds for tree size {n}")
    if n == 1:
        return []
    k = _split(n)
    if index < k:
        return reference_inclusion_proof(leaf_hashes[:k], index) + [reference_root(leaf_hashes[k:])]
    return reference_inclusion_proof(leaf_hashes[k:], index - k) + [reference_root(leaf_hashes[:k])]


def reference_consistency_proof(leaf_hashes: Sequence[bytes], size1: int) -> list[bytes]:
    """PROOF(size1, D[n]) of RFC 9162 2.1.4.1, recursively (slow; for tests).

    Requires 0 < size1 <= n; equal sizes give the empty proof.
    """
    n = len(leaf_hashes)
    if not 0 < size1 <= n:
        raise ValueError(f"size1 {size1} is out of range (0, {n}]")
    return _subproof(size1, leaf_hashes, True)


def _subproof(m: int, leaves: Sequence[bytes], complete: bool) -> list[bytes]:
    n = len(leaves)
    if m == n:
        return [] if complete else [reference_root(leaves)]
    k = _split(n)
    if m <= k:
        return _subproof(m, leaves[:k], complete) + [reference_root(leaves[k:])]
    return _subproof(m - k, leaves[k:], False) + [reference_root(leaves[:k])]


# ---------------------------------------------------------------------------------------------
# Appending leaves (compact/range.go, for ranges starting at leaf 0)


class Frontier:
    """Compact range [0, size): the hashes of root_nodes(size). Appending reports every complete
    subtree it finishes, so a caller can persist the tree's stored nodes.

    ``hashes`` holds one hash per set bit of ``size``, largest subtree first. Appending a leaf
    merges it with the trailing subtrees of equal size, like incrementing a binary counter.
    """

    __slots__ = ("size", "hashes")

    def __init__(self, size: int = 0, hashes: Sequence[bytes] = ()):
        _check_size("size", size)
        hashes = list(hashes)
        want = bin(size).count("1")
        if len(hashes) != want:
            raise ValueError(f"tree size {size} needs {want} subtree hashes, got {len(hashes)}")
        for i, h in enumerate(hashes):
            if not isinstance(h, bytes) or len(h) != HASH_SIZE:
                raise ValueError(f"subtree hash {i} is not {HASH_SIZE} bytes")
        self.size: int = size
        self.hashes: list[bytes] = hashes

    def __repr__(self) -> str:
        return f"Frontier(size={self.size}, root={self.root().hex()})"

    def append(self, leaf_hash: bytes, completed: list | None = None) -> None:
        """Append one leaf hash.

        If ``completed`` is a list, append to it ``((level, index), hash)`` for the leaf itself
        (level 0) and then for every interior node the leaf completes, lowest first.
        """
        self.extend((leaf_hash,), completed)

    def extend(self, leaf_hashes: Iterable[bytes], completed: list | None = None) -> None:
        """Append leaf hashes in order; ``completed`` as for ``append``.

        A leaf hash that is not 32 bytes raises ValueError; the leaves before it stay appended.
        """
        sha = _sha256
        hashes = self.hashes
        pop = hashes.pop
        push = hashes.append
        size = self.size
        try:
            if completed is None:
                for h in leaf_hashes:
                    if len(h) != 32 or h.__class__ is not bytes:
                        raise ValueError(f"leaf hash for index {size} is not {HASH_SIZE} bytes")
                    s = size
                    while s & 1:
                        h = sha(b"\x01" + pop() + h).digest()
                        s >>= 1
                    push(h)
                    size += 1
            else:
                report = completed.append
                for h in leaf_hashes:
                    if len(h) != 32 or h.__class__ is not bytes:
                        raise ValueError(f"leaf hash for index {size} is not {HASH_SIZE} bytes")
                    report(((0, size), h))
                    s = size
                    level = 0
                    while s & 1:
                        h = sha(b"\x01" + pop() + h).digest()
                        s >>= 1
                        level += 1
                        report(((level, s), h))
                    push(h)
                    size += 1
        finally:
            self.size = size

    def root(self) -> bytes:
        """The root hash of the tree of ``size`` leaves (``EMPTY_ROOT`` when empty)."""
        return fold_root(self.hashes)
