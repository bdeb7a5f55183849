"""Stored tiles against the RFC 9162 reference: whatever the batch sizes of the sequencer, the
stored nodes give the reference root and proofs at every size (hypothesis, real database)."""

from __future__ import annotations

import hashlib

import pytest
from django.db import transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from custodia.audit import merkle, tiles

pytestmark = pytest.mark.django_db


def _leaves(n: int, salt: int = 0) -> list[bytes]:
    return [merkle.leaf_hash(hashlib.sha256(f"{salt}:{i}".encode()).digest()) for i in range(n)]


class _Rollback(Exception):
    pass


def _build(batches: list[int], salt: int) -> tuple[list[bytes], tiles.Tiles]:
    hashes, size, seq = _leaves(sum(batches), salt), 0, 1
    for n in batches:
        size = tiles.append(tiles.Tiles(), size, hashes[size:size + n], range(seq, seq + n))
        seq += n + (n % 3)  # event sequence numbers need not be contiguous
    return hashes, tiles.Tiles()


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(batches=st.lists(st.integers(1, 300), min_size=1, max_size=6), salt=st.integers(0, 10**6),
       data=st.data())
def test_tiles_match_the_reference_at_every_size(batches, salt, data):
    try:
        with transaction.atomic():
            hashes, store = _build(batches, salt)
            n = len(hashes)
            for size in sorted({1, n, data.draw(st.integers(1, n)), data.draw(st.integers(1, n))}):
                root = store.root(size)
                assert root == merkle.reference_root(hashes[:size])
                index = data.draw(st.integers(0, size - 1))
                proof = store.inclusion_proof(index, size)
                assert proof == merkle.reference_inclusion_proof(hashes[:size], index)
                merkle.verify_inclusion(hashes[index], index, size, proof, root)
                old = data.draw(st.integers(1, size))
                consistency = store.consistency_proof(old, size)
                assert consistency == merkle.reference_consistency_proof(hashes[:size], old)
                merkle.verify_consistency(old, size, consistency, merkle.reference_root(hashes[:old]), root)
            raise _Rollback
    except _Rollback:
        pass


def test_a_tree_over_several_tile_levels():
    """70,000 leaves: level-0 tiles, level-1 tiles (273 full tiles) and a level-2 tile."""
    hashes, store = _build([40_000, 1, 29_999], salt=7)
    frontier = merkle.Frontier()
    frontier.extend(hashes)
    assert store.root(len(hashes)) == frontier.root()
    for index in (0, 255, 256, 65_535, 65_536, 69_999):
        proof = store.inclusion_proof(index, len(hashes))
        merkle.verify_inclusion(hashes[index], index, len(hashes), proof, frontier.root())
    assert sorted({key[0] for key in store.cache}) == [0, 1, 2]


def test_event_seq_maps_to_its_leaf():
    hashes = _leaves(600)
    seqs = [10 * (i + 1) for i in range(600)]
    tiles.append(tiles.Tiles(), 0, hashes[:300], seqs[:300])
    tiles.append(tiles.Tiles(), 300, hashes[300:], seqs[300:])
    for i in (0, 1, 255, 256, 299, 300, 599):
        assert tiles.leaf_index_of(seqs[i]) == i
    assert tiles.leaf_index_of(15) is None  # between two leaves' events
    assert tiles.leaf_index_of(10**9) is None  # after the last leaf


def test_a_damaged_right_edge_tile_stops_the_sequencer():
    hashes = _leaves(10)
    tiles.append(tiles.Tiles(), 0, hashes[:5], range(1, 6))
    with pytest.raises(RuntimeError, match="damaged"):
        tiles.append(tiles.Tiles(), 4, hashes[5:], range(6, 11))  # wrong size: the tile has 5
