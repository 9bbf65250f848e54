"""The columns a model's import file may have, and how each cell is read and checked.

A file names its columns in a header line, by field name (a foreign key also by its
``_id`` name): the model's primary key, its concrete editable fields and its vector
fields, in any order and any case. Each cell is read and validated by its own field, as
a model form would (type, length, choices, null, blank), with a message naming the
field. What one line cannot show is checked over the whole staged file afterwards, in
bulk (``pgvector_admin.transfer.services``): duplicate keys, foreign keys that point
nowhere, new rows that lack a column they need.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from dataclasses import field as dataclass_field
from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import MaxLengthValidator, ProhibitNullCharactersValidator
from django.db import connection, models
from django.db.models.fields import NOT_PROVIDED, AutoFieldMixin
from django.utils.translation import gettext as _

from pgvector_admin.numbers import grouped
from pgvector_admin.transfer.formula_guard import restore
from pgvector_admin.vectors.fields import VectorColumn, vector_columns
from pgvector_admin.vectors.parsing import VectorError, plain_vector_text

_BOOLEANS = {
    **dict.fromkeys(("true", "t", "yes", "y", "1"), "True"),
    **dict.fromkeys(("false", "f", "no", "n", "0"), "False"),
}


_USUAL_TEXT_VALIDATORS = (MaxLengthValidator, ProhibitNullCharactersValidator)


class CellError(ValueError):
    """One cell cannot be imported; the message names the field and says why."""


@dataclass
class ImportColumn:
    """One column an import file may have: a field of the model."""

    field: models.Field
    vector: VectorColumn | None = None
    # The vectors' length, for a vector field declared without one: fixed by the rows
    # already stored, else by the first row of the file.
    dimensions: int | None = None
    # Read from the field once: every cell of a million-row file asks.
    name: str = dataclass_field(init=False)
    is_pk: bool = dataclass_field(init=False)
    is_auto: bool = dataclass_field(init=False)
    is_foreign_key: bool = dataclass_field(init=False)
    # Text with only the usual validators (length, no NUL): checked here directly.
    _plain_text: bool = dataclass_field(init=False)
    # vector and halfvec text already in pgvector's form goes to COPY as it is.
    _passes_text: bool = dataclass_field(init=False)

    def __post_init__(self) -> None:
        f = self.field
        self.name = f.name
        self.is_pk = bool(f.primary_key)
        self.is_auto = isinstance(f, AutoFieldMixin)
        self.is_foreign_key = bool(f.is_relation and f.many_to_one)
        self._plain_text = (
            isinstance(f, models.CharField | models.TextField)
            and not f.choices
            and all(isinstance(v, _USUAL_TEXT_VALIDATORS) for v in f.validators)
        )
        self._passes_text = self.vector is not None and self.vector.type.name in {
            "vector",
            "halfvec",
        }

    @property
    def names(self) -> set[str]:
        """What a header may call this column (compared in lower case)."""
        return {self.field.name.lower(), self.field.attname.lower()}

    @property
    def db_column(self) -> str:
        return self.field.column

    @property
    def db_type(self) -> str:
        """The column's type, for the staging table (a foreign key: its target's)."""
        return str(self.field.db_type(connection))

    @property
    def has_default(self) -> bool:
        return self.field.has_default() or self.field.db_default is not NOT_PROVIDED

    @property
    def needed_for_new_rows(self) -> bool:
        """A new row cannot be made without a value for this column."""
        if self.is_pk:
            return not (self.is_auto or self.field.has_default())
        if self.vector is not None:
            return not self.field.null
        return not (self.has_default or self.field.null or self._blank_text_allowed)

    @property
    def _blank_text_allowed(self) -> bool:
        return self.field.blank and self.field.empty_strings_allowed

    @property
    def fills_absent(self) -> bool:
        """A new row gets a value for this column from the field when the file has none."""
        return self.field.has_default() or (self._blank_text_allowed and not self.field.null)

    def default(self) -> Any:
        """The value a new row gets when the file has no such column."""
        if self.field.has_default():
            return self.field.get_default()
        if self._blank_text_allowed and not self.field.null:
            return ""
        return None

    def read(self, raw: str) -> Any:
        """The cell ``raw`` as a value of this field; ``CellError`` if it cannot be one."""
        text = raw.strip()
        if "\x00" in text:
            raise CellError(
                _("%(column)s contains a NUL character, which PostgreSQL cannot store")
                % {"column": self.name}
            )
        if self.vector is not None:
            return self._read_vector(text)
        if not text:
            return self._read_empty()
        if self._plain_text:
            text = restore(text)  # an exported cell's quote (pgvector_admin.transfer.formula_guard)
            max_length = self.field.max_length
            if max_length is not None and len(text) > max_length:
                self._check(text)  # raises the field's own message
            return text
        if self.is_pk and self.is_auto:
            return self._read_auto_key(text)
        try:
            if self.is_foreign_key:
                # Whether the row exists is checked for the whole file at once.
                target = self.field.target_field
                return target.to_python(text)
            if isinstance(self.field, models.JSONField):
                value = self._read_json(text)
            elif isinstance(self.field, models.BooleanField):
                # Spreadsheets and databases write true/false, TRUE, t, yes, 1...
                value = self.field.to_python(_BOOLEANS.get(text.lower(), text))
            else:
                value = self.field.to_python(text)
            self.field.validate(value, None)
            self.field.run_validators(value)
        except ValidationError as error:
            raise CellError(f"{self.name}: {' '.join(error.messages)}") from error
        return value

    def _check(self, value: Any) -> None:
        try:
            self.field.run_validators(value)
        except ValidationError as error:
            raise CellError(f"{self.name}: {' '.join(error.messages)}") from error

    def _read_empty(self) -> Any:
        if self.is_pk:
            if self.needed_for_new_rows:
                raise CellError(_("empty %(column)s: every row needs one") % {"column": self.name})
            return None  # a new row: the database or the field's default gives its key
        if self.field.null:
            return None
        if self.field.has_default():
            return self.field.get_default()
        if self._blank_text_allowed:
            return ""
        raise CellError(_("%(column)s: this field cannot be empty") % {"column": self.name})

    def _read_auto_key(self, text: str) -> int:
        high = connection.ops.integer_field_range(self.field.get_internal_type())[1]
        if not (text.isascii() and text.isdigit()) or not 1 <= int(text) <= (high or 2**63 - 1):
            shown = text[:30]
            raise CellError(
                _("%(column)s %(value)s is not a positive whole number")
                % {"column": self.name, "value": repr(shown)}
            )
        return int(text)

    def _read_json(self, text: str) -> Any:
        try:
            return json.loads(text)
        except ValueError as error:
            raise ValidationError(_("not valid JSON (%(reason)s)") % {"reason": error}) from error

    def _read_vector(self, text: str) -> Any:
        assert self.vector is not None
        if not text:
            if self.field.null:
                return None
            raise CellError(_("empty %(column)s") % {"column": self.name})
        try:
            value = self.vector.type.parse(text, self.dimensions)
        except VectorError as error:
            raise CellError(f"{self.name}: {error}") from error
        if self.dimensions is None:
            # A column without a declared length: every row of the file as the first.
            self.dimensions = self.vector.type.length(value)
        return value

    def db_value(self, value: Any, raw: str | None = None) -> Any:
        """``value`` as COPY writes it into the staging table. Vectors go as pgvector's
        text: the file's own when it already is (``[1.5,2,3]``), parsed once by
        PostgreSQL and never rounded here."""
        if value is None:
            return None
        if self.vector is not None:
            if raw is not None and self._passes_text:
                plain = plain_vector_text(raw)
                if plain is not None:
                    return plain
            return self.vector.text(value)
        if self._plain_text:
            return value
        if self.is_foreign_key:
            return self.field.target_field.get_db_prep_save(value, connection)
        return self.field.get_db_prep_save(value, connection)

    def shown(self, value: Any) -> str:
        """The value for the import preview."""
        if value is None:
            return ""
        if self.vector is not None:
            return self.vector.short(value)
        return str(value)

    def describe(self) -> str:
        """What the import page says of this column."""
        if self.is_pk:
            return _("optional: a row whose key exists updates that row; without one, a new row")
        if self.vector is not None:
            length = self.vector.dimensions or self.dimensions
            values = {"type": self.vector.type.name, "count": grouped(length or 0)}
            bits = self.vector.type.name == "bit"
            if length:
                what = (
                    _("%(type)s, %(count)s bits") if bits else _("%(type)s, %(count)s dimensions")
                ) % values
            else:
                what = (
                    _("%(type)s, any number of bits")
                    if bits
                    else _("%(type)s, any number of dimensions")
                ) % values
        elif self.is_foreign_key:
            what = _("the id of a %(thing)s") % {
                "thing": self.field.related_model._meta.verbose_name
            }
        else:
            what = str(self.field.description % self.field.__dict__).lower()
            if self.field.choices:
                keys = ", ".join(str(choice[0]) for choice in self.field.flatchoices)
                what = _("%(kind)s, one of %(values)s") % {"kind": what, "values": keys}
        need = _("required for new rows") if self.needed_for_new_rows else _("optional")
        return f"{what}; {need}"


def quoted_names(columns: Iterable[ImportColumn]) -> str:
    """``'a'``, ``'a' and 'b'``, ``'a', 'b' and 'c'``."""
    names = [repr(column.name) for column in columns]
    if len(names) == 1:
        return names[0]
    return _("%(names)s and %(last)s") % {"names": ", ".join(names[:-1]), "last": names[-1]}


@dataclass
class ImportSchema:
    """Every column a model's import file may have: its key first, then its other
    fields, then its vector fields (the order of its export)."""

    model: type[models.Model]
    columns: list[ImportColumn] = dataclass_field(default_factory=list)

    @classmethod
    def of(cls, model: type[models.Model]) -> ImportSchema:
        vectors = {column.name: column for column in vector_columns(model)}
        pk = model._meta.pk
        fields = [
            f
            for f in model._meta.concrete_fields
            if not f.primary_key and (f.editable or f.name in vectors)
        ]
        ordered = [
            ImportColumn(pk),
            *(ImportColumn(f) for f in fields if f.name not in vectors),
            *(
                ImportColumn(f, vector=vectors[f.name], dimensions=vectors[f.name].dimensions)
                for f in fields
                if f.name in vectors
            ),
        ]
        return cls(model=model, columns=ordered)

    @property
    def pk(self) -> ImportColumn:
        return self.columns[0]

    @property
    def table(self) -> str:
        return self.model._meta.db_table

    @property
    def names(self) -> list[str]:
        return [column.name for column in self.columns]

    def column_for(self, header_name: str) -> ImportColumn | None:
        wanted = header_name.strip().lower()
        return next((column for column in self.columns if wanted in column.names), None)

    def needed_for_new_rows(self, present: Iterable[ImportColumn]) -> list[ImportColumn]:
        """The columns that new rows need and a file with only ``present`` lacks."""
        have = {column.name for column in present}
        return [c for c in self.columns if c.needed_for_new_rows and c.name not in have]

    def describe(self) -> list[tuple[str, str]]:
        """(name, what it takes) for each column, for the import page."""
        return [(column.name, column.describe()) for column in self.columns]
