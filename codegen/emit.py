"""Code from the one constraint description: validators, parsers, serialisers, and the data itself.

schema_prep describes every property once (a plain dict, the same fields as
``ocpp16.constraints.Property``). Everything that checks or converts a message is rendered here
from that description and nowhere else:

- ``validator``: the attrs validator expression that checks a field on construction;
- ``parse_method``: a class's ``_parse``, straight-line code turning a wire object into an
  instance while listing every violation (``from_dict`` raises the first, ``violations()``
  returns them all: one pass, two uses);
- ``fast_function``: the class's ``_fast``, the same checks without a word of explanation: it
  returns the instance when the object is valid and BAD as soon as anything is not, and then
  ``_parse`` (the only source of violations) takes over. It is what makes valid input cheap;
- ``to_dict_method``: the class's wire serialiser;
- ``constraints_module``: the description as importable data (``ocpp16.constraints``).

The leaf rules (what a violation is called, its OCPP-J code, "5.0 is the integer 5") live in
``ocpp16._validators`` and ``ocpp16._convert``; the code here only calls them.
"""

from __future__ import annotations

from typing import Any

__all__ = [
    "constraints_module",
    "fast_function",
    "parse_method",
    "to_dict_method",
    "validator",
]

Description = dict[str, Any]


def validator(desc: Description) -> str:
    """The attrs validator of a field: ``_v.field(<check>)``."""
    check = _check(desc)
    if not desc["required"]:
        check = f"_v.optional({check})"
    return f"_v.field({check})"


def _check(desc: Description) -> str:
    kind = desc["type"]
    if kind == "array":
        return f"_v.array({_with_site(_check(desc['items']), desc)}, {desc['min_items'] or 0})"
    if desc["nested"] is not None:
        return _with_site(f"_v.instance({desc['nested']})", desc)
    if desc["enum_class"] is not None:
        return f"_v.member({desc['enum_class']})"
    if desc["format"] == "date-time":
        return "_v.DATE_TIME"
    if kind == "string":
        return f"_v.string({desc['max_length']})"
    return {"integer": "_v.INTEGER", "number": "_v.TENTHS", "boolean": "_v.BOOLEAN"}[str(kind)]


def _with_site(check: str, desc: Description) -> str:
    """``check`` of a nested object plus the array bounds this place adds to its type."""
    for attr, wire, bound in desc.get("site_min_items", ()):
        check = f'_v.min_items_at({check}, "{attr}", "{wire}", {bound})'
    return check


def _site(desc: Description) -> str:
    bounds = desc.get("site_min_items", ())
    if not bounds:
        return "None"
    return repr(tuple((a, w, n) for a, w, n in bounds))


def _value_lines(desc: Description, path: str) -> list[str]:
    """Statements that check the wire value ``v`` and leave the converted value (or BAD) in it."""
    kind = desc["type"]
    if kind == "array":
        items = desc["items"]
        min_items = desc["min_items"] or 0
        if items["nested"] is not None:
            parse = f"{items['nested']}._parse"
            site = _site(desc)
            return [f'v = _c.objects(v, {parse}, {min_items}, errs, "{path}", site={site})']
        if items["type"] == "string" and items["enum_class"] is None and items["format"] is None:
            return [f'v = _c.strings(v, {items["max_length"]}, {min_items}, errs, "{path}")']
        raise SystemExit(f"codegen: arrays of {items} are not supported")
    if desc["nested"] is not None:
        if desc.get("site_min_items"):
            raise SystemExit(f"codegen: {path}: bounds on a single nested object")
        return [
            "if type(v) is dict:",
            "    j = len(errs)",
            f"    v = {desc['nested']}._parse(v, errs)",
            "    if v is _BAD:",
            f'        _c.nest(errs, j, "{path[1:]}")',
            "else:",
            f'    v = _c.wrong(v, "object", errs, "{path}")',
        ]
    if desc["enum_class"] is not None:
        enum = desc["enum_class"]
        return [
            f"m = {enum}._value2member_map_.get(v) if isinstance(v, str) else None",
            f'v = m if m is not None else _c.member(v, {enum}, errs, "{path}")',
        ]
    if desc["format"] == "date-time":
        return [f'v = _c.date_time(v, errs, "{path}")']
    if kind == "string":
        bound = desc["max_length"]
        test = "type(v) is not str" + (f" or len(v) > {bound}" if bound is not None else "")
        return [f"if {test}:", f'    v = _c.string(v, {bound}, errs, "{path}")']
    if kind == "integer":
        return ["if type(v) is not int:", f'    v = _c.integer(v, errs, "{path}")']
    if kind == "number":
        return [f'v = _c.number(v, errs, "{path}")']
    if kind == "boolean":
        return ["if type(v) is not bool:", f'    v = _c.wrong(v, "boolean", errs, "{path}")']
    raise SystemExit(f"codegen: {path}: type {kind!r} is not supported")


def parse_method(class_name: str, props: list[Description]) -> str:
    """The ``_parse`` static method of ``class_name`` (indented for the class body)."""
    lines = [
        "@staticmethod",
        "def _parse(d: dict[str, Any], errs: list[ValidationError]) -> Any:",
        '    """The instance for the wire object ``d``, or BAD with every violation (paths from',
        '    ``$``, the object itself) appended to ``errs``. Generated: do not edit."""',
    ]
    if not props:
        lines += [
            "    if d:",
            "        _c.extra(d, (), errs)",
            "        return _BAD",
            f"    return _new({class_name})",
        ]
        return "\n".join("    " + line for line in lines)
    lines += ["    k = len(errs)", "    n = 0", f"    self = _new({class_name})"]
    for desc in props:
        path = f"$.{desc['wire']}"
        lines.append(f'    v = d.get("{desc["wire"]}", _MISSING)')
        lines.append("    if v is _MISSING:")
        if desc["required"]:
            lines.append(f'        _c.missing(errs, "{path}")')
        else:
            lines.append("        v = None")
        lines.append("    else:")
        lines.append("        n += 1")
        lines += ["        " + line for line in _value_lines(desc, path)]
        lines.append(f'    _set(self, "{desc["name"]}", v)')
    known = ", ".join(f'"{desc["wire"]}"' for desc in props) + ("," if len(props) == 1 else "")
    lines += [
        "    if len(d) != n:",
        f"        _c.extra(d, ({known}), errs)",
        "    return self if len(errs) == k else _BAD",
    ]
    return "\n".join("    " + line for line in lines)


def _wire_value(desc: Description, value: str) -> str:
    kind = desc["type"]
    if kind == "array":
        item = _wire_value(desc["items"], "x")
        return f"list({value})" if item == "x" else f"[{item} for x in {value}]"
    if desc["nested"] is not None:
        return f"{value}.to_dict()"
    if desc["enum_class"] is not None:
        return f"{value}._value_"
    if desc["format"] == "date-time":
        return f"_format_date_time({value})"
    return value


def to_dict_method(props: list[Description]) -> str:
    """The ``to_dict`` method (indented for the class body): absent fields are left out."""
    lines = [
        "def to_dict(self) -> dict[str, Any]:",
        '    """The wire JSON object: camelCase keys, absent fields omitted, RFC 3339',
        '    date-times."""',
    ]
    required = [desc for desc in props if desc["required"]]
    optional = [desc for desc in props if not desc["required"]]
    entries = "".join(
        f'"{desc["wire"]}": {_wire_value(desc, "self." + desc["name"])}, ' for desc in required
    )
    lines.append(f"    d: dict[str, Any] = {{{entries}}}")
    if optional:
        lines.append("    v: Any")
    for desc in optional:
        lines.append(f"    if (v := self.{desc['name']}) is not None:")
        lines.append(f'        d["{desc["wire"]}"] = {_wire_value(desc, "v")}')
    lines.append("    return d")
    return "\n".join("    " + line for line in lines)


_ALWAYS = ("name", "wire", "path", "type", "required")
_WHEN_SET = (
    "max_length",
    "enum",
    "enum_class",
    "format",
    "multiple_of",
    "min_items",
    "max_items",
    "nested",
)


def _property(desc: Description, indent: str) -> str:
    args = [f"{field}={desc[field]!r}" for field in _ALWAYS]
    args += [f"{field}={desc[field]!r}" for field in _WHEN_SET if desc[field] is not None]
    if desc.get("items") is not None:
        args.append("items=" + _property(desc["items"], indent + "    "))
    if desc.get("site_min_items"):
        bounds = tuple((wire, bound) for _, wire, bound in desc["site_min_items"])
        # (wire name, bound): the attribute name is codegen's business.
        args.append(f"nested_min_items={bounds!r}")
    inner = f",\n{indent}    ".join(args)
    return f"Property(\n{indent}    {inner},\n{indent})"


def constraints_module(header: str, classes: list[tuple[str, str, str, list[Description]]]) -> str:
    """``ocpp16/_generated/constraints.py``: per class (name, kind, action, properties)."""
    entries = []
    for name, kind, action, props in classes:
        properties = "".join(_property(desc, "            ") + ",\n            " for desc in props)
        entries.append(
            f'    "{name}": ObjectConstraints(\n        name="{name}",\n        kind="{kind}",\n'
            f'        action="{action}",\n        properties=(\n            {properties}),\n    ),'
        )
    body = "\n".join(entries)
    return (
        f'{header}"""The constraints of every message and data type, as data (see '
        "ocpp16.constraints).\n\nThe generated parsers and validators are rendered from the same "
        'description.\n"""\n\n'
        "from types import MappingProxyType\nfrom typing import Final\n\n"
        "from ocpp16.constraints import ObjectConstraints, Property\n\n"
        '__all__ = ["CONSTRAINTS"]\n\n'
        "#: Every generated class's constraints, by class name.\n"
        f"CONSTRAINTS: Final = MappingProxyType({{\n{body}\n}})\n"
    )


def _snake_name(class_name: str) -> str:
    return "".join(f"_{c.lower()}" if c.isupper() else c for c in class_name).lstrip("_")


def _fast_value(desc: Description, args: dict[str, str], prefix: str) -> list[str]:
    """Statements that leave the converted wire value ``v`` in ``v``, or return BAD."""
    kind = desc["type"]
    if kind == "array":
        items = desc["items"]
        lines = [f"if type(v) is not list or len(v) < {desc['min_items'] or 0}:", "    return _BAD"]
        if items["nested"] is not None:
            args[f"{prefix}item"] = f"{items['nested']}._fast"
            lines += [
                "w = []",
                "for x in v:",
                "    if type(x) is not dict:",
                "        return _BAD",
                f"    y = {prefix}item(x)",
                "    if y is _BAD:",
                "        return _BAD",
            ]
            for attr, _, bound in desc.get("site_min_items", ()):
                lines += [f"    if len(y.{attr}) < {bound}:", "        return _BAD"]
            return [*lines, "    w.append(y)", "v = w"]
        bound = items["max_length"]
        test = "type(x) is not str" + (f" or len(x) > {bound}" if bound is not None else "")
        return [*lines, "for x in v:", f"    if {test}:", "        return _BAD", "v = list(v)"]
    if desc["nested"] is not None:
        args[f"{prefix}nested"] = f"{desc['nested']}._fast"
        return [
            "if type(v) is not dict:",
            "    return _BAD",
            f"v = {prefix}nested(v)",
            "if v is _BAD:",
            "    return _BAD",
        ]
    if desc["enum_class"] is not None:
        args[f"{prefix}members"] = f"{desc['enum_class']}._value2member_map_"
        return [f"v = {prefix}members[v]"]  # KeyError, or TypeError when unhashable
    if desc["format"] == "date-time":
        return ["if type(v) is not str:", "    return _BAD", "v = _parse_date_time(v)"]
    if kind == "string":
        bound = desc["max_length"]
        test = "type(v) is not str" + (f" or len(v) > {bound}" if bound is not None else "")
        return [f"if {test}:", "    return _BAD"]
    if kind == "integer":
        return ["if type(v) is not int:", "    return _BAD"]
    if kind == "number":
        return [
            "if type(v) is int:",
            "    v = float(v)",
            "elif type(v) is not float:",
            "    return _BAD",
            "if not _is_tenths(v):",
            "    return _BAD",
        ]
    return ["if type(v) is not bool:", "    return _BAD"]


def fast_function(class_name: str, props: list[Description]) -> str:
    """Module-level ``_fast_<class>`` and its binding as ``<class>._fast``: the instance for a
    valid wire object, else BAD (and nothing said: ``_parse`` tells what is wrong)."""
    snake = _snake_name(class_name)
    name = f"_fast_{snake}"
    # What the function touches is bound to module globals first: in CPython 3.11 a global is
    # the cheapest name to load (keyword defaults are copied on every call).
    args: dict[str, str] = {}
    body: list[str] = []
    required = sum(1 for desc in props if desc["required"])
    for index, desc in enumerate(props):
        prefix = f"_{snake}_{index}"
        setter = f"{prefix}set"
        args[setter] = f'{class_name}.__dict__["{desc["name"]}"].__set__'
        values: dict[str, str] = {}
        if desc["required"]:
            body.append(f'v = d["{desc["wire"]}"]')
            body += _fast_value(desc, values, prefix)
        else:
            body.append(f'v = d.get("{desc["wire"]}")')
            body.append("if v is not None:")
            body.append("    n += 1")
            body += ["    " + line for line in _fast_value(desc, values, prefix)]
        args.update(values)
        body.append(f"{setter}(self, v)")
    lines = [f"{arg} = {value}" for arg, value in args.items()]
    lines += [
        "",
        "",
        f"def {name}(d: dict[str, Any]) -> Any:",
        f'    """The {class_name} for a valid wire object ``d``, else BAD. Generated."""',
        "    try:",
        f"        self = _new({class_name})",
        f"        n = {required}",
        *("        " + line for line in body),
        "        return self if len(d) == n else _BAD",
        "    except (KeyError, TypeError, ValueError, OverflowError):",
        "        return _BAD",
        "",
        "",
        f"{class_name}._fast = {name}",
    ]
    return "\n".join(lines)
