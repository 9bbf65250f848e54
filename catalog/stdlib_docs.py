"""The demo's text corpus: the documentation every Python interpreter carries, its
standard library's docstrings. One row per public module, class, function and method
that has a docstring of its own (PSF licence, as Python itself).

The modules are imported in a child process (``python -m catalog.stdlib_docs``, which
prints JSON lines): importing most of the standard library must not change the
server's own process. Which rows there are depends on the interpreter; the same one
always gives the same rows.
"""

from __future__ import annotations

import importlib
import inspect
import json
import pkgutil
import subprocess
import sys
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

# Modules that do something when imported (open a browser, print, start a GUI), or are
# the interpreter's own tests and tools rather than its library.
SKIPPED = {
    "antigravity",
    "this",
    "idlelib",
    "tkinter",
    "turtle",
    "turtledemo",
    "test",
    "lib2to3",
    "ensurepip",
    "pydoc_data",
    "__phello__",
    "__hello__",
    "_pyrepl",
    "pip",
}
# A docstring is cut here: a module's can run to pages.
MAX_TEXT = 8_000


@dataclass(frozen=True)
class Doc:
    qualname: str
    kind: str
    module: str
    text: str


def module_names() -> list[str]:
    """The public standard library modules, packages' public submodules included."""
    names: set[str] = set()
    for top in sorted(sys.stdlib_module_names):
        if top.startswith("_") or top in SKIPPED:
            continue
        module = _import(top)
        if module is None:
            continue
        names.add(top)
        for info in pkgutil.walk_packages(getattr(module, "__path__", []), prefix=f"{top}."):
            parts = info.name.split(".")
            if any(part.startswith("_") or part in {"test", "tests"} for part in parts):
                continue
            if _import(info.name) is not None:
                names.add(info.name)
    return sorted(names)


def collect() -> Iterator[Doc]:
    """Every public documented object of the standard library, each once: under the
    module that defines it, or under the first public module that re-exports it from
    an implementation module (``os.remove`` from ``posix``, ``csv.reader`` from
    ``_csv``)."""
    claimed: set[int] = set()
    for name in module_names():
        module = sys.modules[name]
        doc = _own_doc(module)
        if doc:
            yield Doc(name, "module", name, doc)
        for attribute, value in sorted(vars(module).items()):
            home = getattr(value, "__module__", None)
            if attribute.startswith("_") or id(value) in claimed:
                continue
            if home != name and not _implementation(home):
                continue
            claimed.add(id(value))
            if inspect.isclass(value):
                yield from _class_docs(value, f"{name}.{attribute}", name)
            elif callable(value) and (doc := _own_doc(value)):
                yield Doc(f"{name}.{attribute}", "function", name, doc)


def _implementation(module: object) -> bool:
    """A module that implements a public one (``_csv``, ``posix``): its objects are
    documented under the public module."""
    return isinstance(module, str) and (module.startswith("_") or module in {"posix", "nt"})


def _class_docs(cls: type, qualname: str, module: str) -> Iterator[Doc]:
    doc = _own_doc(cls)
    if doc:
        yield Doc(qualname, "class", module, doc)
    for attribute, value in sorted(vars(cls).items()):
        if attribute.startswith("_"):
            continue
        function = value.__func__ if isinstance(value, (classmethod, staticmethod)) else value
        if not callable(function):
            continue
        doc = _own_doc(function)
        # A method that only repeats the docstring it overrides says nothing new.
        inherited = [getattr(base, attribute, None) for base in cls.__mro__[1:]]
        if doc and all(_own_doc(other) != doc for other in inherited if other is not None):
            yield Doc(f"{qualname}.{attribute}", "method", module, doc)


def _own_doc(obj: Any) -> str:
    doc = getattr(obj, "__doc__", None)
    if not isinstance(doc, str):
        return ""
    return inspect.cleandoc(doc).strip()[:MAX_TEXT]


def _import(name: str) -> Any:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            return importlib.import_module(name)
        except BaseException:  # a module may raise anything when imported, even SystemExit
            return None


def read_corpus(python: str = sys.executable) -> list[Doc]:
    """The corpus of ``python`` (this interpreter by default), read in a child process."""
    output = subprocess.run(
        [python, "-m", "catalog.stdlib_docs"],
        capture_output=True,
        text=True,
        check=True,
        timeout=300,
        cwd=Path(__file__).resolve().parent.parent,
    ).stdout
    return [Doc(**json.loads(line)) for line in output.splitlines() if line.startswith("{")]


if __name__ == "__main__":
    seen: set[str] = set()
    for doc in collect():
        if doc.qualname not in seen:
            seen.add(doc.qualname)
            print(json.dumps(doc.__dict__, ensure_ascii=False))
