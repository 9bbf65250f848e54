import io

import pytest

from catalog.models import Item
from pgvector_admin.transfer.columns import ImportSchema
from pgvector_admin.transfer.csv_rows import (
    BadRow,
    FileColumns,
    FileError,
    GoodRow,
    read_rows,
    sniff_delimiter,
)


def rows(content: bytes, **kwargs) -> list:
    """The rows of an Item file (the file's columns, read first, left out)."""
    found = list(read_rows(io.BytesIO(content), schema=ImportSchema.of(Item), **kwargs))
    assert isinstance(found[0], FileColumns)
    return found[1:]


def test_good_rows_carry_their_line_numbers() -> None:
    found = rows(b'id,label,embedding\n5,a,"[1,2,3]"\n,b,"4,5,6"\n,c,1 2 3\n')
    assert [(row.line, row.id, row.values["label"]) for row in found] == [
        (2, 5, "a"),
        (3, None, "b"),
        (4, None, "c"),
    ]
    assert [row.values["embedding"] for row in found] == [[1, 2, 3], [4, 5, 6], [1, 2, 3]]
    # pgvector's own form goes to COPY as it is; anything else is written out.
    assert [row.db_values["embedding"] for row in found] == ["[1,2,3]", "[4,5,6]", "[1.0,2.0,3.0]"]


def test_columns_in_any_order_case_and_spacing() -> None:
    assert rows(b" EMBEDDING ;Label\n[1,2,3];x\n", delimiter=";") == [
        GoodRow(
            2,
            None,
            {"embedding": [1.0, 2.0, 3.0], "label": "x"},
            {"embedding": "[1,2,3]", "label": "x"},
        )
    ]


def test_bom_crlf_and_blank_lines() -> None:
    content = b'\xef\xbb\xbfembedding\r\n"[1,2,3]"\r\n\r\n"[3,2,1]"\r\n\r\n'
    assert [row.line for row in rows(content)] == [2, 4]


def test_quoted_fields_across_lines_keep_the_starting_line() -> None:
    content = b'label,embedding\n"two\nlines","[1,2,3]"\nnext,"[1,1,1]"\n'
    assert [(row.line, row.values["label"]) for row in rows(content)] == [
        (2, "two\nlines"),
        (4, "next"),
    ]


@pytest.mark.parametrize(
    ("line", "reason"),
    [
        (b'x,"[1,2,3]",extra', "too many columns: 3 values, the header has 2"),
        (b"x", "too few columns: 1 values, the header has 2"),
        (b"x,", "empty embedding"),
        (b'x,"[1,2]"', "expected 3 dimensions, not 2"),
        (b'x,"[1,2,3,4]"', "expected 3 dimensions, not 4"),
        (b'x,"[nan,1,2]"', "NaN"),
        (b'x,"[1,-inf,2]"', "infinite"),
        (b'x,"[1,a,2]"', "not a number"),
        (b'x,"[1,2,3"', "Unbalanced brackets"),
        (b'x,"[[1,2,3]]"', "not a number"),
        (b'x,"[1e39,1,2]"', "out of range"),
    ],
)
def test_bad_lines_get_a_reason(line: bytes, reason: str) -> None:
    [bad] = rows(b"label,embedding\n" + line + b"\n")
    assert isinstance(bad, BadRow)
    assert bad.line == 2
    assert reason in bad.reason


@pytest.mark.parametrize("raw_id", [b"0", b"-1", b"1.5", b"abc", b"99999999999999999999"])
def test_ids_must_be_positive_whole_numbers(raw_id: bytes) -> None:
    [bad] = rows(b"id,embedding\n" + raw_id + b',"[1,2,3]"\n')
    assert "is not a positive whole number" in bad.reason


def test_nul_characters_are_refused() -> None:
    bad_label, bad_vector = rows(b'label,embedding\na\x00b,"[1,2,3]"\nc,"[1,2,3]\x00"\n')
    assert "label contains a NUL character" in bad_label.reason
    assert "embedding contains a NUL character" in bad_vector.reason


def test_labels_over_200_characters_are_refused() -> None:
    [bad] = rows(b"label,embedding\n" + b"x" * 201 + b',"[1,2,3]"\n')
    assert bad.reason == "label: Ensure this value has at most 200 characters (it has 201)."


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "The file is empty"),
        (b"\n \n", "The file is empty"),
        (b"label,embedding\n\xff\xfe,x\n", "not UTF-8 text"),
        (b"label\nx\n", "no 'embedding' column"),
        (b"embedding,vector\n", "Unknown column 'vector'"),
        (b"embedding,Embedding\n", "appears twice"),
        (b'embedding\n"[1,2,3]\n', "not valid CSV"),
    ],
)
def test_files_that_cannot_be_read_raise_file_error(content: bytes, message: str) -> None:
    with pytest.raises(FileError, match=message.replace("(", r"\(")):
        rows(content)


def test_reading_is_lazy() -> None:
    lines = b"".join(b'"[1,2,3]"\n' for _ in range(1000))
    iterator = read_rows(io.BytesIO(b"embedding\n" + lines), schema=ImportSchema.of(Item))
    assert isinstance(next(iterator), FileColumns)
    assert next(iterator).line == 2


def test_delimiter_by_file_name() -> None:
    assert sniff_delimiter("v.TSV") == "\t"
    assert sniff_delimiter("v.csv") == ","
