"""Lazy package faces (PEP 562): a public name is imported the first time it is used.

``sweetspot``, ``sweetspot.io`` and ``sweetspot.harness`` keep ``import`` and the
``sweetspot`` command free of pandas, SciPy and matplotlib this way; each passes its
name -> module table to :func:`attach` and binds the two functions it returns.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterable, Mapping
from typing import Any


def attach(
    package: str,
    lazy: Mapping[str, str],
    public: Iterable[str],
    submodules: Iterable[str] = (),
) -> tuple[Callable[[str], Any], Callable[[], list[str]]]:
    """``(__getattr__, __dir__)`` for ``package``.

    ``lazy`` maps a public name to the module (relative to ``package``, e.g. ``".fitting"``)
    that defines it; a name mapped to its own module (``"plan": ".plan"``) or listed in
    ``submodules`` is the submodule itself. The value is cached in
    the package's namespace, so the import happens once.
    """
    subs = frozenset(submodules)
    names = frozenset(public)

    def __getattr__(name: str) -> Any:
        module = lazy.get(name, f".{name}" if name in subs else None)
        if module is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        mod = importlib.import_module(module, package)
        value = mod if module == f".{name}" else getattr(mod, name)
        vars(importlib.import_module(package))[name] = value
        return value

    def __dir__() -> list[str]:
        return sorted(set(vars(importlib.import_module(package))) | names | subs)

    return __getattr__, __dir__
