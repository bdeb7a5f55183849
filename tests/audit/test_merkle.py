"""custodia.audit.merkle against three independent sources: the RFC 9162 conformance probes of
transparency-dev/merkle (/work/shared/conformance/rfc9162), the RFC's own recursive definitions
(MTH, PATH, PROOF), and pymerkle 7.0.0, an independent implementation used as a test oracle only.

pymerkle's conventions differ from ours and the RFC's: its leaf indexes count from one, an
inclusion proof's path starts with the leaf hash itself, and its consistency proofs are not the
RFC's PROOF (it descends past the point where the old tree is a complete left subtree), so those
are compared by what they prove (the two roots), not hash by hash.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pymerkle import InmemoryTree, InvalidProof

from custodia.audit.merkle import (
    EMPTY_ROOT,
    HASH_SIZE,
    Frontier,
    Nodes,
    ProofError,
    consistency_nodes,
    fold_root,
    inclusion_nodes,
    leaf_hash,
    node_hash,
    reference_consistency_proof,
    reference_inclusion_proof,
    reference_root,
    root_from_consistency_proof,
    root_from_inclusion_proof,
    root_nodes,
    verify_consistency,
    verify_inclusion,
)

CI = os.environ.get("CI") == "true"

CONFORMANCE_DIR = (
    Path(__file__).resolve().parents[2].parent / "shared" / "conformance" / "rfc9162" / "testdata"
)
EXPECTED_PROBES = {"inclusion": 98, "consistency": 98}  # 196 files at commit 417fb0c
PROBES = (
    sorted(p.relative_to(CONFORMANCE_DIR).as_posix() for p in CONFORMANCE_DIR.rglob("*.json"))
    if CONFORMANCE_DIR.is_dir()
    else []
)


def require_conformance_dir() -> None:
    """Skip with a clear message on a developer machine; fail under CI=true."""
    if CONFORMANCE_DIR.is_dir():
        return
    message = f"the RFC 9162 conformance probes are not at {CONFORMANCE_DIR}"
    if CI:
        pytest.fail(f"{message}; they are required under CI=true")
    pytest.skip(message)


# ---------------------------------------------------------------------------------------------
# Helpers


def entries(n: int, salt: bytes = b"") -> list[bytes]:
    """n distinct entries of pseudo-random length and content (each starts with its index)."""
    out = []
    for i in range(n):
        noise = hashlib.sha256(salt + i.to_bytes(4, "big")).digest()
        out.append(i.to_bytes(4, "big") + noise[: noise[0] % 40])
    return out


def make_leaves(n: int, salt: bytes = b"") -> list[bytes]:
    return [leaf_hash(e) for e in entries(n, salt)]


def subtree_store(leaves: list[bytes]) -> dict[tuple[int, int], bytes]:
    """Every complete subtree of the tree over `leaves`, hashed with the RFC's recursive MTH:
    what a log would have persisted."""
    store = {}
    level = 0
    while (1 << level) <= len(leaves):
        width = 1 << level
        for index in range(len(leaves) // width):
            store[(level, index)] = reference_root(leaves[index * width : (index + 1) * width])
        level += 1
    return store


def proof_from(nodes: Nodes, store: dict) -> list[bytes]:
    return nodes.rehash([store[node_id] for node_id in nodes.ids])


def pymerkle_tree(leaves_data: list[bytes]) -> InmemoryTree:
    tree = InmemoryTree()  # sha256 with 0x00/0x01 prefixes: RFC 9162 hashing
    for data in leaves_data:
        tree.append_entry(data)
    return tree


def split(n: int) -> int:
    k = 1
    while k * 2 < n:
        k *= 2
    return k


def rfc_path_len(m: int, n: int) -> int:
    """Length of PATH(m, D[n]) by the RFC's recursion, without hashing."""
    if n == 1:
        return 0
    k = split(n)
    return 1 + (rfc_path_len(m, k) if m < k else rfc_path_len(m - k, n - k))


def rfc_proof_len(m: int, n: int, complete: bool = True) -> int:
    """Length of SUBPROOF(m, D[n], complete) by the RFC's recursion, without hashing."""
    if m == n:
        return 0 if complete else 1
    k = split(n)
    return 1 + (rfc_proof_len(m, k, complete) if m <= k else rfc_proof_len(m - k, n - k, False))


def flip(h: bytes) -> bytes:
    return bytes([h[0] ^ 0x01]) + h[1:]


def mutations(proof: list[bytes]):
    """Every proof one edit away: one hash changed, one dropped, one added (anywhere)."""
    extra = hashlib.sha256(b"not in the tree").digest()
    for i in range(len(proof)):
        yield f"hash {i} changed", proof[:i] + [flip(proof[i])] + proof[i + 1 :]
        yield f"hash {i} dropped", proof[:i] + proof[i + 1 :]
    for i in range(len(proof) + 1):
        yield f"hash added at {i}", proof[:i] + [extra] + proof[i:]
        if proof:
            yield (
                f"hash {min(i, len(proof) - 1)} repeated at {i}",
                (proof[:i] + [proof[min(i, len(proof) - 1)]] + proof[i:]),
            )


# Hypothesis: a tree of 0..300 leaves with random (distinct) entries.
tree_data = st.tuples(st.integers(min_value=0, max_value=300), st.binary(max_size=16))


# ---------------------------------------------------------------------------------------------
# 1. Conformance probes


@pytest.mark.parametrize("probe", PROBES or ["<conformance directory missing>"])
def test_conformance_probe(probe):
    require_conformance_dir()
    raw = json.loads((CONFORMANCE_DIR / probe).read_text())

    def b64(key):
        return base64.b64decode(raw[key]) if raw.get(key) is not None else b""

    proof = [base64.b64decode(h) for h in raw.get("proof") or []]
    kind = probe.split("/", 1)[0]
    if kind == "inclusion":
        args = (b64("leafHash"), raw["leafIdx"], raw["treeSize"], proof, b64("root"))
        check, compute = verify_inclusion, lambda: root_from_inclusion_proof(*args[:4])
    else:
        assert kind == "consistency", probe
        args = (raw["size1"], raw["size2"], proof, b64("root1"), b64("root2"))
        check, compute = verify_consistency, lambda: root_from_consistency_proof(*args[:4])

    if raw["wantErr"]:
        with pytest.raises(ProofError):
            check(*args)
    else:
        check(*args)
        assert compute() == args[-1]


def test_conformance_probes_all_read():
    require_conformance_dir()
    counts = {kind: sum(p.startswith(kind + "/") for p in PROBES) for kind in EXPECTED_PROBES}
    assert counts == EXPECTED_PROBES
    assert len(PROBES) == 196


def test_missing_conformance_dir_skips_here_and_fails_under_ci(monkeypatch, tmp_path):
    monkeypatch.setitem(globals(), "CONFORMANCE_DIR", tmp_path / "absent")
    monkeypatch.setitem(globals(), "CI", False)
    with pytest.raises(pytest.skip.Exception, match="conformance probes are not at .*absent"):
        require_conformance_dir()
    monkeypatch.setitem(globals(), "CI", True)
    with pytest.raises(pytest.fail.Exception, match="required under CI=true"):
        require_conformance_dir()


# ---------------------------------------------------------------------------------------------
# Known answers (RFC 6962 test vectors, as used by transparency-dev/merkle and Certificate
# Transparency): the roots of the trees over the first 1..8 of these entries.

KNOWN_ENTRIES = [
    b"",
    b"\x00",
    b"\x10",
    b"\x20\x21",
    b"\x30\x31",
    b"\x40\x41\x42\x43",
    b"\x50\x51\x52\x53\x54\x55\x56\x57",
    b"\x60\x61\x62\x63\x64\x65\x66\x67\x68\x69\x6a\x6b\x6c\x6d\x6e\x6f",
]
KNOWN_ROOTS = [
    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
    "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
    "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
    "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
]


def test_hash_constants():
    assert HASH_SIZE == 32
    assert EMPTY_ROOT.hex() == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
    assert leaf_hash(b"") == hashlib.sha256(b"\x00").digest()
    assert leaf_hash(b"abc") == hashlib.sha256(b"\x00abc").digest()
    assert node_hash(b"L" * 32, b"R" * 32) == hashlib.sha256(b"\x01" + b"L" * 32 + b"R" * 32).digest()


def test_known_roots():
    leaves = [leaf_hash(e) for e in KNOWN_ENTRIES]
    frontier = Frontier()
    store = subtree_store(leaves)
    for n, want in enumerate(KNOWN_ROOTS, start=1):
        frontier.append(leaves[n - 1])
        assert frontier.root().hex() == want
        assert reference_root(leaves[:n]).hex() == want
        assert fold_root([store[i] for i in root_nodes(n)]).hex() == want


# ---------------------------------------------------------------------------------------------
# 2. Oracle: the RFC's recursive definitions and pymerkle


@settings(max_examples=100, deadline=None)
@given(tree_data)
def test_roots_agree_with_reference_and_pymerkle(data):
    n, salt = data
    leaves_data = entries(n, salt)
    leaves = [leaf_hash(e) for e in leaves_data]
    oracle = pymerkle_tree(leaves_data)
    store = subtree_store(leaves)

    frontier = Frontier()
    for size in range(n + 1):
        if size:
            frontier.append(leaves[size - 1])
        want = oracle.get_root(size)
        assert frontier.size == size
        assert frontier.root() == want, size
        assert fold_root([store[i] for i in root_nodes(size)]) == want, size
        assert frontier.hashes == [store[i] for i in root_nodes(size)]
    assert reference_root(leaves) == oracle.get_root(n)
    assert oracle.get_root(0) == EMPTY_ROOT


def assert_inclusion_rejections(leaves, roots, index, size, proof):
    """The proof of leaf `index` in the tree of `size` fails one edit away, at another index,
    or against another (size, root) pair of the same log."""
    n = len(leaves)
    root = roots[size]
    for what, bad in mutations(proof):
        with pytest.raises(ProofError):
            verify_inclusion(leaves[index], index, size, bad, root)
            pytest.fail(f"accepted with {what}")
    with pytest.raises(ProofError):
        verify_inclusion(flip(leaves[index]), index, size, proof, root)
    for other in {index - 1, index + 1, index ^ 1, 0, size - 1, size, size + 1, -1} - {index}:
        for leaf in (leaves[index], leaves[other] if 0 <= other < n else flip(leaves[index])):
            with pytest.raises(ProofError):
                verify_inclusion(leaf, other, size, proof, root)
    for other in {size - 1, size + 1, 2 * size, size // 2, index, index + 1, n} - {size}:
        if index < other <= n:
            with pytest.raises(ProofError):
                verify_inclusion(leaves[index], index, other, proof, roots[other])
    with pytest.raises(ProofError):
        verify_inclusion(leaves[index], index, size, proof, flip(root))


@settings(max_examples=100, deadline=None)
@given(tree_data, st.data())
def test_inclusion_proofs_agree_and_verify(data, draw):
    n, salt = data
    n = max(n, 1)
    leaves_data = entries(n, salt)
    leaves = [leaf_hash(e) for e in leaves_data]
    oracle = pymerkle_tree(leaves_data)
    store = subtree_store(leaves)
    roots = [oracle.get_root(size) for size in range(n + 1)]

    for _ in range(4):
        size = draw.draw(st.integers(min_value=1, max_value=n), label="size")
        index = draw.draw(st.integers(min_value=0, max_value=size - 1), label="index")
        proof = proof_from(inclusion_nodes(index, size), store)

        assert proof == reference_inclusion_proof(leaves[:size], index)
        theirs = oracle.prove_inclusion(index + 1, size)  # pymerkle counts leaves from one
        assert theirs.path[0] == leaves[index]
        assert proof == theirs.path[1:]

        verify_inclusion(leaves[index], index, size, proof, roots[size])
        assert root_from_inclusion_proof(leaves[index], index, size, proof) == roots[size]
        assert_inclusion_rejections(leaves, roots, index, size, proof)


def assert_consistency_rejections(roots, size1, size2, proof):
    root1, root2 = roots[size1], roots[size2]
    n = len(roots) - 1
    for what, bad in mutations(proof):
        with pytest.raises(ProofError):
            verify_consistency(size1, size2, bad, root1, root2)
            pytest.fail(f"accepted with {what}")
    with pytest.raises(ProofError):
        verify_consistency(size1, size2, proof, flip(root1), root2)
    with pytest.raises(ProofError):
        verify_consistency(size1, size2, proof, root1, flip(root2))
    if size1 < size2:
        with pytest.raises(ProofError):
            verify_consistency(size1, size2, proof, root2, root1)
    for other in {size1 - 1, size1 + 1, 0, size2, size2 + 1} - {size1}:
        if 0 <= other <= n:
            with pytest.raises(ProofError):
                verify_consistency(other, size2, proof, roots[other], root2)
    for other in {size2 - 1, size2 + 1, size1, 2 * size2, n} - {size2}:
        if 0 <= other <= n:
            with pytest.raises(ProofError):
                verify_consistency(size1, other, proof, root1, roots[other])


@settings(max_examples=100, deadline=None)
@given(tree_data, st.data())
def test_consistency_proofs_agree_and_verify(data, draw):
    n, salt = data
    n = max(n, 1)
    leaves_data = entries(n, salt)
    leaves = [leaf_hash(e) for e in leaves_data]
    oracle = pymerkle_tree(leaves_data)
    store = subtree_store(leaves)
    roots = [oracle.get_root(size) for size in range(n + 1)]

    for _ in range(4):
        size2 = draw.draw(st.integers(min_value=1, max_value=n), label="size2")
        size1 = draw.draw(st.integers(min_value=1, max_value=size2), label="size1")
        proof = proof_from(consistency_nodes(size1, size2), store)

        assert proof == reference_consistency_proof(leaves[:size2], size1)
        verify_consistency(size1, size2, proof, roots[size1], roots[size2])
        assert root_from_consistency_proof(size1, size2, proof, roots[size1]) == roots[size2]

        # pymerkle's proof has another shape; it must prove the same two roots.
        theirs = oracle.prove_consistency(size1, size2)
        theirs.verify(roots[size1], roots[size2], prior_size=size1, later_size=size2)
        assert theirs.retrieve_prior_state() == roots[size1]
        assert theirs.compute_root() == roots[size2]
        with pytest.raises(InvalidProof):
            theirs.verify(flip(roots[size1]), roots[size2])

        assert_consistency_rejections(roots, size1, size2, proof)


@pytest.mark.parametrize("n", range(1, 40))
def test_every_proof_of_small_trees_matches_the_rfc(n):
    leaves = make_leaves(n, b"small")
    store = subtree_store(leaves)
    root = reference_root(leaves)
    for index in range(n):
        proof = proof_from(inclusion_nodes(index, n), store)
        assert proof == reference_inclusion_proof(leaves, index), index
        verify_inclusion(leaves[index], index, n, proof, root)
    for size1 in range(1, n + 1):
        proof = proof_from(consistency_nodes(size1, n), store)
        assert proof == reference_consistency_proof(leaves, size1), size1
        verify_consistency(size1, n, proof, reference_root(leaves[:size1]), root)


# ---------------------------------------------------------------------------------------------
# 3. Frontier: reporting completed subtrees, resuming from (size, hashes)


def completed_by_leaf(j: int) -> list[tuple[int, int]]:
    """The complete subtrees whose last leaf is j, by brute force over all levels."""
    return [(level, (j + 1 >> level) - 1) for level in range(64) if (j + 1) % (1 << level) == 0]


@settings(max_examples=100, deadline=None)
@given(tree_data, st.data())
def test_frontier_reports_exactly_the_completed_subtrees(data, draw):
    n, salt = data
    leaves = make_leaves(n, salt)
    store = subtree_store(leaves)
    all_complete = {
        (level, index)
        for level in range(n.bit_length() + 1)
        for index in range(n)
        if (index + 1) << level <= n
    }
    assert set(store) == all_complete

    frontier, reported = Frontier(), []
    for j, leaf in enumerate(leaves):
        step: list = []
        frontier.append(leaf, completed=step)
        assert [node_id for node_id, _ in step] == completed_by_leaf(j)
        reported += step
    assert len(reported) == len(all_complete)
    assert dict(reported) == store
    assert frontier.root() == reference_root(leaves)

    at_once, reported_at_once = Frontier(), []
    at_once.extend(leaves, completed=reported_at_once)
    assert reported_at_once == reported
    assert (at_once.size, at_once.hashes) == (frontier.size, frontier.hashes)

    # A sequencer restarts from the persisted (size, hashes) and carries on.
    k = draw.draw(st.integers(min_value=0, max_value=n), label="restart at")
    head = Frontier()
    head.extend(leaves[:k])
    resumed, reported_after = Frontier(head.size, head.hashes), []
    resumed.extend(iter(leaves[k:]), completed=reported_after)
    assert (resumed.size, resumed.hashes, resumed.root()) == (n, frontier.hashes, frontier.root())
    assert reported_after == [r for r in reported if r[0][1] + 1 << r[0][0] > k]


def test_frontier_rejects_bad_input_and_keeps_its_state():
    leaves = make_leaves(5)
    with pytest.raises(ValueError, match="tree size 5 needs 2 subtree hashes, got 1"):
        Frontier(5, [leaves[0]])
    with pytest.raises(ValueError):
        Frontier(1, [b"short"])
    with pytest.raises(ValueError):
        Frontier(-1)
    with pytest.raises(ValueError):
        Frontier(1 << 64)

    frontier = Frontier()
    with pytest.raises(ValueError, match="leaf hash for index 3 is not 32 bytes"):
        frontier.extend([*leaves[:3], b"\x00" * 31, leaves[4]])
    assert frontier.size == 3
    assert frontier.root() == reference_root(leaves[:3])
    with pytest.raises(ValueError):
        frontier.append("x" * 32)  # a str of the right length is not a hash
    frontier.extend(leaves[3:])
    assert frontier.root() == reference_root(leaves)


# ---------------------------------------------------------------------------------------------
# 4. Edge cases and shapes


def test_empty_tree():
    assert reference_root([]) == EMPTY_ROOT
    assert fold_root([]) == EMPTY_ROOT
    assert root_nodes(0) == []
    assert Frontier().root() == EMPTY_ROOT
    assert Frontier().hashes == []
    with pytest.raises(ValueError):
        inclusion_nodes(0, 0)
    with pytest.raises(ValueError):
        consistency_nodes(0, 0)
    with pytest.raises(ValueError):
        consistency_nodes(0, 5)
    with pytest.raises(ProofError, match="index 0 is out of bounds for tree size 0"):
        verify_inclusion(leaf_hash(b""), 0, 0, [], EMPTY_ROOT)
    with pytest.raises(ProofError, match="empty tree is meaningless"):
        verify_consistency(0, 0, [], EMPTY_ROOT, EMPTY_ROOT)
    with pytest.raises(ProofError, match="empty tree is meaningless"):
        verify_consistency(0, 3, [], EMPTY_ROOT, EMPTY_ROOT)


def test_single_leaf():
    leaf = leaf_hash(b"only")
    assert reference_root([leaf]) == leaf
    assert root_nodes(1) == [(0, 0)]
    assert inclusion_nodes(0, 1) == Nodes((), 0, 0, (0, 1))
    verify_inclusion(leaf, 0, 1, [], leaf)
    with pytest.raises(ProofError, match="proof has 1 hashes, expected 0"):
        verify_inclusion(leaf, 0, 1, [leaf], leaf)
    assert consistency_nodes(1, 1).ids == ()
    verify_consistency(1, 1, [], leaf, leaf)
    with pytest.raises(ProofError, match="proof has 1 hashes, expected 0"):
        verify_consistency(1, 1, [leaf], leaf, leaf)


def test_ragged_tree_uses_the_ephemeral_node():
    # Tree of 7 leaves, proof for leaf 0: [leaf 1, node (1, 1), hash of leaves 4..6]. Leaves
    # 4..6 are no complete subtree: their hash is folded from the stored (0, 6) and (1, 2).
    nodes = inclusion_nodes(0, 7)
    assert nodes == Nodes(((0, 1), (1, 1), (0, 6), (1, 2)), 2, 4, (2, 1))
    leaves = make_leaves(7)
    store = subtree_store(leaves)
    proof = nodes.rehash([store[i] for i in nodes.ids])
    assert proof == [leaves[1], store[(1, 1)], reference_root(leaves[4:])]
    with pytest.raises(ValueError, match="got 3 hashes for 4 node ids"):
        nodes.rehash(proof)

    # Consistency 6 -> 7: (1, 2) starts the proof since 6 is not a power of two.
    assert consistency_nodes(6, 7).ids == ((1, 2), (0, 6), (2, 0))
    assert consistency_nodes(4, 7) == Nodes(((0, 6), (1, 2)), 0, 2, (2, 1))


def test_proof_errors_say_what_is_wrong():
    leaves = make_leaves(8)
    store = subtree_store(leaves)
    root = reference_root(leaves)
    proof = proof_from(inclusion_nodes(5, 8), store)
    with pytest.raises(ProofError, match=r"^proof has 2 hashes, expected 3$"):
        verify_inclusion(leaves[5], 5, 8, proof[:2], root)
    with pytest.raises(ProofError, match=r"^proof hash 1 is 31 bytes, expected 32 bytes$"):
        verify_inclusion(leaves[5], 5, 8, [proof[0], proof[1][:31], proof[2]], root)
    with pytest.raises(ProofError, match=r"^index 8 is out of bounds for tree size 8$"):
        verify_inclusion(leaves[5], 8, 8, proof, root)
    with pytest.raises(ProofError, match=r"^leaf hash is 9 bytes, expected 32$"):
        verify_inclusion(b"123456789", 5, 8, proof, root)
    with pytest.raises(ProofError, match=r"^calculated root [0-9a-f]{64} does not match expected root"):
        verify_inclusion(leaves[4], 5, 8, proof, root)
    with pytest.raises(ProofError, match=r"^size1 9 > size2 8$"):
        verify_consistency(9, 8, [], root, root)
    root3 = reference_root(leaves[:3])
    cproof = proof_from(consistency_nodes(3, 8), store)
    with pytest.raises(ProofError, match=r"^proof has 0 hashes, expected 4$"):
        verify_consistency(3, 8, [], root3, root)
    with pytest.raises(ProofError, match=r"^calculated root1 [0-9a-f]{64} does not match expected root1"):
        verify_consistency(3, 8, cproof, flip(root3), root)
    with pytest.raises(ProofError, match=r"^calculated root2 [0-9a-f]{64} does not match expected root2"):
        verify_consistency(3, 8, cproof, root3, flip(root))
    with pytest.raises(ProofError, match=r"^tree size 18446744073709551616 is out of range"):
        verify_inclusion(leaves[0], 0, 1 << 64, [], root)


BOUNDARY_SIZES = sorted({(1 << k) + d for k in range(11) for d in (-1, 0, 1)} - {0})


@pytest.mark.parametrize("n", BOUNDARY_SIZES)
def test_powers_of_two_and_neighbours(n):
    leaves = make_leaves(n, b"boundary")
    store = subtree_store(leaves)
    root = reference_root(leaves)
    frontier = Frontier()
    frontier.extend(leaves)
    assert frontier.root() == root
    assert len(frontier.hashes) == bin(n).count("1")
    picks = {0, 1, n // 2, n - 2, n - 1} | {(1 << k) - d for k in range(11) for d in (0, 1)}
    for index in sorted(i for i in picks if 0 <= i < n):
        proof = proof_from(inclusion_nodes(index, n), store)
        assert proof == reference_inclusion_proof(leaves, index), index
        verify_inclusion(leaves[index], index, n, proof, root)
    for size1 in sorted(i for i in picks if 0 < i <= n):
        proof = proof_from(consistency_nodes(size1, n), store)
        assert proof == reference_consistency_proof(leaves, size1), size1
        verify_consistency(size1, n, proof, reference_root(leaves[:size1]), root)


LARGE_SIZES = [10**7, 10**7 + 1, (1 << 40) + 12345, 1 << 63, (1 << 63) + 1, (1 << 64) - 1]


def check_ids(nodes: Nodes, size: int) -> None:
    assert len(set(nodes.ids)) == len(nodes.ids)
    for level, index in nodes.ids:
        assert 0 <= level < 64 and (index + 1) << level <= size, (level, index)
    if nodes.begin < nodes.end:  # the ephemeral node's parts tile [its start, size)
        level, index = nodes.ephem
        start = index << level
        parts = sorted((i << lv, (i + 1) << lv) for lv, i in nodes.ids[nodes.begin : nodes.end])
        assert parts[0][0] == start and parts[-1][1] == size
        assert all(a[1] == b[0] for a, b in zip(parts, parts[1:], strict=False))


@pytest.mark.parametrize("size", LARGE_SIZES)
def test_large_tree_shapes(size):
    fake = {}

    def fetch(nodes):
        return [fake.setdefault(i, hashlib.sha256(repr(i).encode()).digest()) for i in nodes.ids]

    picks = {0, 1, size // 3, size // 2, size - 2, size - 1, (1 << (size.bit_length() - 1)) - 1}
    for index in sorted(i for i in picks if 0 <= i < size):
        nodes = inclusion_nodes(index, size)
        assert len(nodes.ids) <= 2 * 64
        check_ids(nodes, size)
        proof = nodes.rehash(fetch(nodes))
        assert len(proof) == rfc_path_len(index, size) <= 64
        # The verifier agrees on the shape: it gets as far as comparing roots.
        root = root_from_inclusion_proof(b"\x00" * 32, index, size, proof)
        verify_inclusion(b"\x00" * 32, index, size, proof, root)
    for size1 in sorted(i for i in picks if 0 < i <= size):
        nodes = consistency_nodes(size1, size)
        assert len(nodes.ids) <= 2 * 64
        check_ids(nodes, size)
        proof = nodes.rehash(fetch(nodes))
        assert len(proof) == rfc_proof_len(size1, size) <= 2 * 64
        if size1 < size and size1 & (size1 - 1):
            # proof[0] is a subtree the verifier must fold into root1: a wrong root1 shows.
            with pytest.raises(ProofError, match="^calculated root1"):
                root_from_consistency_proof(size1, size, proof, b"\x00" * 32)
        elif size1 < size:
            # The old tree is a complete subtree: its root seeds the proof directly.
            root_from_consistency_proof(size1, size, proof, b"\x00" * 32)
    assert len(root_nodes(size)) == bin(size).count("1")


def test_sizes_out_of_range():
    with pytest.raises(ValueError):
        inclusion_nodes(0, 1 << 64)
    with pytest.raises(ValueError):
        inclusion_nodes(-1, 5)
    with pytest.raises(ValueError):
        inclusion_nodes(5, 5)
    with pytest.raises(ValueError):
        consistency_nodes(5, 4)
    with pytest.raises(ValueError):
        consistency_nodes(1, 1 << 64)
    with pytest.raises(ValueError):
        root_nodes(1 << 64)
    with pytest.raises(ProofError):
        verify_inclusion(b"\x00" * 32, -1, 5, [], b"\x00" * 32)
    with pytest.raises(ProofError):
        verify_consistency(1, 1 << 64, [b"\x00" * 32] * 64, b"\x00" * 32, b"\x00" * 32)
