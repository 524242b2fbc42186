"""Package names resolved on first use (a PEP 562 module `__getattr__`), so importing a
package stays light: `import kyra` loads no diagnoser, and reading the settings tree
(which imports `kyra.notify.settings`) loads no notification channel."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from importlib import import_module
from typing import Any


def lazy_names(
    package: str, table: Mapping[str, str], namespace: dict[str, Any]
) -> tuple[Callable[[str], Any], Callable[[], list[str]]]:
    """`(__getattr__, __dir__)` for `package`: a name in `table` (name -> module) is
    imported on first use and kept in `namespace` (the package's `globals()`)."""

    def __getattr__(name: str) -> Any:
        module = table.get(name)
        if module is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(import_module(module), name)
        namespace[name] = value
        return value

    def __dir__() -> list[str]:
        return sorted(set(namespace) | set(table))

    return __getattr__, __dir__
