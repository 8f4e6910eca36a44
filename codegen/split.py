"""Split the generator's one module into modules that load on demand.

datamodel-code-generator renders every class into one module, but building ~100 attrs classes
costs tens of milliseconds at import, and a command that sends a Heartbeat needs two of them.
The classes go to ``enums.py`` (the enumerations), ``datatypes.py`` (the shared data types) and
one module per action (``boot_notification.py``: its request and response); each module imports
the names it uses from the others, and ruff drops the header imports it does not use.
"""

from __future__ import annotations

import ast
import re

import attrs

__all__ = ["Module", "module_of_action", "split_models"]

_CAMEL_BOUNDARY = re.compile(r"(?<=[a-z0-9])(?=[A-Z])")


def module_of_action(action: str) -> str:
    """``BootNotification`` -> ``boot_notification``."""
    return _CAMEL_BOUNDARY.sub("_", action).lower()


@attrs.frozen
class Module:
    name: str  # file stem, e.g. "boot_notification"
    docstring: str
    classes: list[str]


def split_models(text: str, header: str, modules: list[Module]) -> dict[str, str]:
    """The module texts (by file name) holding the classes of ``text`` as ``modules`` says;
    ``header`` opens each. Every class of ``text`` must be placed exactly once."""
    tree = ast.parse(text)
    lines = text.splitlines()
    imports = [
        ast.get_source_segment(text, node) or ""
        for node in tree.body
        if isinstance(node, ast.Import)
        or (isinstance(node, ast.ImportFrom) and node.module != "__future__")
    ]
    sources: dict[str, str] = {}  # in the generator's order: dependencies first
    uses: dict[str, set[str]] = {}
    tails: dict[str, list[int]] = {}  # the lines of the module-level code after each class
    last = ""
    for node in tree.body:
        if isinstance(node, ast.ClassDef):
            last = node.name
            start = min([node.lineno, *(d.lineno for d in node.decorator_list)])
            sources[node.name] = "\n".join(lines[start - 1 : node.end_lineno])
            uses[node.name] = {n.id for n in ast.walk(node) if isinstance(n, ast.Name)}
            uses[node.name] |= _forward_references(node)
        elif last and not isinstance(node, ast.Import | ast.ImportFrom):
            # Module-level code after a class (its fast parser) belongs with that class.
            start = min([node.lineno, *(d.lineno for d in getattr(node, "decorator_list", []))])
            tails.setdefault(last, [start, 0])[1] = node.end_lineno or start
            uses[last] |= {n.id for n in ast.walk(node) if isinstance(n, ast.Name)}
    for cls, (start, end) in tails.items():
        sources[cls] += "\n\n\n" + "\n".join(lines[start - 1 : end])
    home = {cls: module.name for module in modules for cls in module.classes}
    unplaced = set(sources) - set(home)
    if unplaced or set(home) - set(sources):
        missing = sorted(set(home) - set(sources))
        raise SystemExit(f"codegen: split: unplaced {sorted(unplaced)}, missing {missing}")
    files = {}
    for module in modules:
        needed: dict[str, set[str]] = {}
        for cls in module.classes:
            for name in uses[cls]:
                where = home.get(name)
                if where is not None and where != module.name:
                    needed.setdefault(where, set()).add(name)
        cross = [
            f"from ocpp16._generated.{where} import {', '.join(sorted(names))}"
            for where, names in sorted(needed.items())
        ]
        body = "\n\n\n".join(sources[cls] for cls in sources if cls in module.classes)
        files[f"{module.name}.py"] = (
            f'{header}"""{module.docstring}"""\n\nfrom __future__ import annotations\n\n'
            + "\n".join(imports + cross)
            + f"\n\n__all__ = {sorted(module.classes)!r}\n\n\n{body}\n"
        )
    return files


def _forward_references(node: ast.ClassDef) -> set[str]:
    """Class names written as strings (``Request["BootNotificationResponse"]``)."""
    return {
        n.value
        for n in ast.walk(node)
        if isinstance(n, ast.Constant) and isinstance(n.value, str) and n.value.isidentifier()
    }
