"""Recall (pgvector_admin.search.recall): one rule for the search pages and the curve."""

from __future__ import annotations

import pytest

from pgvector_admin.search.recall import recall_at_k


def test_a_row_as_near_as_the_true_kth_counts_as_found() -> None:
    # Duplicates: another row at the k-th distance stands for the one the exact scan
    # happened to return.
    assert recall_at_k([0.0, 0.1, 0.2], 0.2, 3) == 1.0
    assert recall_at_k([0.0, 0.1, 0.3], 0.2, 3) == pytest.approx(2 / 3)


def test_nothing_to_find_is_full_recall() -> None:
    assert recall_at_k([], None, 0) == 1.0
    assert recall_at_k([0.5], 0.1, 0) == 1.0


def test_the_tolerance_is_relative_to_the_distance() -> None:
    # An inner product of -1e6 read back with a rounding error still counts.
    assert recall_at_k([-999_999.999_9], -1_000_000.0, 1) == 1.0
    assert recall_at_k([-999_000.0], -1_000_000.0, 1) == 0.0


def test_more_rows_found_than_wanted_count_once() -> None:
    assert recall_at_k([0.1, 0.1, 0.1, 0.1], 0.1, 2) == 1.0
