import math
import struct

import pytest

from pgvector_admin.vectors.parsing import (
    FLOAT4_MAX,
    VectorError,
    format_sparse,
    format_vector,
    format_vector_short,
    norm,
    parse_bits,
    parse_sparse_vector,
    parse_vector,
    query_text,
    to_text,
)


@pytest.mark.parametrize(
    "text", ["[3,1,2]", "3,1,2", "3 1 2", "[ 3.0, 1e0, 2 ]", " 3,\t1 ,2\n", "+3, 1., .2e1"]
)
def test_parse_vector_accepts_the_usual_spellings(text: str) -> None:
    assert parse_vector(text, dimensions=3) == [3.0, 1.0, 2.0]


def test_parse_vector_keeps_negative_and_tiny_values() -> None:
    assert parse_vector("[-1.5, 0, 2.5e-30]") == [-1.5, 0.0, 2.5e-30]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[3,1,2,4]", "expected 3 dimensions, not 4"),
        ("3,1", "expected 3 dimensions, not 2"),
        ("", "Enter a vector"),
        ("   ", "Enter a vector"),
        ("[]", "Enter a vector"),
        ("a,b,c", "Value 1 ('a') is not a number"),
        ("1,2,x", "Value 3 ('x') is not a number"),
        ("1,,2", "Value 2 ('') is not a number"),
        ("NaN,1,2", "Value 1 is NaN"),
        ("1,nan,2", "Value 2 is NaN"),
        ("inf,1,2", "Value 1 is infinite"),
        ("1,-Infinity,2", "Value 2 is infinite"),
        ("1e39,1,2", "out of range"),
        ("1,-3.5e38,2", "out of range"),
        ("1e400,1,2", "out of range"),
        ("[1,2,3", "Unbalanced brackets"),
        ("1,2,3]", "Unbalanced brackets"),
        ("[[1,2,3]]", "is not a number"),
        ("\u0661,\u0662,\u0663", "is not a number"),  # Arabic-Indic digits
        ("1_0,2,3", "is not a number"),
        ("0x10,2,3", "is not a number"),
    ],
)
def test_parse_vector_refuses_bad_text_with_a_reason(text: str, message: str) -> None:
    with pytest.raises(VectorError, match=message.replace("(", r"\(").replace(")", r"\)")):
        parse_vector(text, dimensions=3)


def test_parse_vector_refuses_huge_text_without_parsing_it() -> None:
    with pytest.raises(VectorError, match="too long"):
        parse_vector("1," * 300_000)


def test_float4_max_itself_is_accepted() -> None:
    assert parse_vector(f"{FLOAT4_MAX!r},0,0", dimensions=3)[0] == FLOAT4_MAX


def test_to_text_round_trips_at_float4_precision() -> None:
    values = [0.1, -2.5e-7, 123456.789, 3.4028234663852886e38]
    back = parse_vector(to_text(values))
    assert [struct.pack("<f", v) for v in back] == [struct.pack("<f", v) for v in values]


def test_to_text_writes_short_decimals() -> None:
    assert to_text([1, 2, 3]) == "[1.0,2.0,3.0]"
    # 0.1 as pgvector hands it back (the float4 nearest 0.1, widened to a double).
    assert to_text([0.10000000149011612, -2.5e-7]) == "[0.1,-2.5e-07]"


def test_the_fast_and_strict_paths_agree() -> None:
    for text in ["[1,2,3]", "1.5,-2e3,.25", "[ 1 , 2 , 3 ]", "1 2 3", "+1,2.,3"]:
        assert parse_vector(text) == parse_vector(text.replace(",", " , "))


def test_format_vector_is_compact() -> None:
    assert format_vector([3.0, 1.0, 2.0]) == "[3, 1, 2]"
    assert format_vector([0.1234567, 1e-7, 2.0]) == "[0.123457, 1e-07, 2]"


def test_format_vector_short_abbreviates_long_vectors() -> None:
    assert format_vector_short([1.0, 2.0, 3.0]) == "[1, 2, 3]"
    text = format_vector_short([float(i) for i in range(768)])
    assert text == "[0, 1, 2, 3, 4, 5, …, 767] (768 dims)"


def test_norm_is_the_euclidean_length() -> None:
    assert norm([3, 4, 0]) == 5.0
    assert norm([0, 0, 0]) == 0.0
    assert math.isclose(norm([1, 1, 1]), math.sqrt(3))


def test_sparse_text_is_one_based_as_pgvector_writes_it() -> None:
    value = parse_sparse_vector("{1:0.5, 7:2}/10", dimensions=10)
    assert (value.indices(), value.values(), value.dimensions()) == ([0, 6], [0.5, 2.0], 10)
    assert format_sparse(value) == "{1:0.5, 7:2}/10"
    assert value.to_text() == "{1:0.5,7:2.0}/10"


def test_a_dense_list_is_a_sparse_vector_too_and_zeros_are_dropped() -> None:
    value = parse_sparse_vector("[0, 1.5, 0]", dimensions=3)
    assert (value.indices(), value.values()) == ([1], [1.5])
    assert parse_sparse_vector("{2:0,3:1}/3").indices() == [2]


def test_long_sparse_vectors_are_abbreviated() -> None:
    value = parse_sparse_vector("{1:1,2:2,3:3,4:4,5:5}/9")
    assert format_sparse(value, max_items=2) == "{1:1, 2:2, …}/9"


def test_bits_accept_groups_and_check_their_count() -> None:
    assert parse_bits("0101 1100", length=8) == "01011100"
    with pytest.raises(VectorError, match="expected 8 bits, not 4"):
        parse_bits("0101", length=8)
    with pytest.raises(VectorError, match="Enter bits"):
        parse_bits("   ")


def test_query_text_reads_back_as_the_float4s_pgvector_stores() -> None:
    values = [0.1, -2.5e-7, 3.0, 1 / 3, 123456.789, -FLOAT4_MAX]
    written = query_text(values)
    assert written.startswith("[0.100000001,-2.49999999e-07,3,0.333333343,")

    def float4(value: float) -> float:
        return struct.unpack("f", struct.pack("f", value))[0]

    assert [float4(value) for value in parse_vector(written)] == [float4(v) for v in values]
    assert query_text([3.0, 1.0, 2.0]) == "[3,1,2]"
