"""``python -m codegen [--check]``: schemas/ -> ocpp16/_generated/.

Steps: name and annotate the schemas (schema_prep), let datamodel-code-generator render the attrs
classes and enums through our templates, render the action registry and the package's exports,
then run ruff (fix + format) over everything. With ``--check`` nothing is written; the exit status
is 1 when the committed files differ from what would be generated.
"""

from __future__ import annotations

import argparse
import difflib
import json
import subprocess
import sys
import tempfile
from pathlib import Path

import jinja2

from codegen import emit
from codegen.schema_prep import Prepared, load_names, prepare
from codegen.split import Module, module_of_action, split_models

ROOT = Path(__file__).resolve().parent.parent
HERE = Path(__file__).resolve().parent
TEMPLATES = HERE / "templates"
OUTPUT = ROOT / "ocpp16" / "_generated"


def _run(args: list[str], stdin: str | None = None) -> str:
    done = subprocess.run(
        args, input=stdin, capture_output=True, text=True, cwd=ROOT, check=False, encoding="utf-8"
    )
    if done.returncode != 0:
        raise SystemExit(f"codegen: {' '.join(args[:4])} failed:\n{done.stderr}{done.stdout}")
    return done.stdout


def render_models(prepared: Prepared) -> str:
    with tempfile.TemporaryDirectory() as tmp:
        source = Path(tmp) / "ocpp16.json"
        source.write_text(json.dumps(prepared.document, indent=2), encoding="utf-8")
        template_data = Path(tmp) / "template-data.json"
        template_data.write_text(json.dumps(prepared.template_data), encoding="utf-8")
        return _run(
            [
                sys.executable,
                "-m",
                "datamodel_code_generator",
                "--input",
                str(source),
                "--input-file-type",
                "jsonschema",
                "--output-model-type",
                "dataclasses.dataclass",
                "--custom-template-dir",
                str(TEMPLATES),
                "--custom-file-header-path",
                str(TEMPLATES / "models_header.py.txt"),
                "--extra-template-data",
                str(template_data),
                "--field-constraints",
                "--field-extra-keys",
                "x-validator",
                "x-random",
                "--output-datetime-class",
                "datetime",
                "--snake-case-field",
                "--use-title-as-name",
                "--use-standard-collections",
                "--use-union-operator",
                "--target-python-version",
                "3.11",
                "--disable-timestamp",
                "--use-schema-description",
                "--capitalise-enum-members",
                "--no-formatters",
            ]
        )


def render_template(name: str, **context: object) -> str:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES),
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
        autoescape=False,
    )
    return env.get_template(name).render(**context)


def ruff(text: str, filename: str) -> str:
    fixed = _run(
        [sys.executable, "-m", "ruff", "check", "--fix-only", "--stdin-filename", filename, "-"],
        stdin=text,
    )
    return _run([sys.executable, "-m", "ruff", "format", "--stdin-filename", filename, "-"], fixed)


def generate(schemas: Path) -> dict[str, str]:
    """The generated files, by path relative to ocpp16/_generated."""
    names = load_names(HERE / "names.toml")
    prepared = prepare(schemas, names)
    header = (TEMPLATES / "header.txt").read_text(encoding="utf-8")
    models = render_models(prepared)
    action_names = list(dict.fromkeys(m.action for m in prepared.messages))
    modules = [
        Module("enums", "The enumerations of OCPP 1.6.", prepared.enums),
        Module("datatypes", "The OCPP 1.6 data types that messages share.", prepared.data_types),
    ] + [
        Module(
            module_of_action(action),
            f"{action}: {names.actions[action]['summary']}.",
            [f"{action}Response", f"{action}Request"],
        )
        for action in action_names
    ]
    actions = [
        {
            "name": action,
            "sender": names.actions[action]["sender"],
            "summary": names.actions[action]["summary"],
            "module": module_of_action(action),
        }
        for action in action_names
    ]
    files = split_models(models, header, modules)
    files["actions.py"] = render_template("actions.py.jinja2", header=header, actions=actions)
    files["constraints.py"] = emit.constraints_module(header, _described_classes(prepared))
    files["__init__.py"] = render_template("init.py.jinja2", header=header, modules=modules)
    return {name: ruff(text, f"ocpp16/_generated/{name}") for name, text in files.items()}


def _described_classes(prepared: Prepared) -> list[tuple[str, str, str, list[emit.Description]]]:
    """(name, kind, action, properties) of every class: data types, then each action's
    request and response."""
    found: list[tuple[str, str, str, list[emit.Description]]] = [
        (name, "datatype", "", prepared.descriptions[name]) for name in prepared.data_types
    ]
    found += [
        (m.class_name, m.kind.lower(), m.action, prepared.descriptions[m.class_name])
        for m in prepared.messages
    ]
    return found


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m codegen", description=__doc__)
    parser.add_argument("--check", action="store_true", help="fail if the output would change")
    parser.add_argument("--schemas", type=Path, default=ROOT / "schemas")
    args = parser.parse_args()
    files = generate(args.schemas)
    stale = sorted(set(p.name for p in OUTPUT.glob("*.py")) - set(files)) if OUTPUT.exists() else []
    if args.check:
        changed = False
        for name, text in files.items():
            path = OUTPUT / name
            current = path.read_text(encoding="utf-8") if path.exists() else ""
            if current != text:
                changed = True
                diff = difflib.unified_diff(
                    current.splitlines(keepends=True),
                    text.splitlines(keepends=True),
                    f"committed/{name}",
                    f"generated/{name}",
                    n=1,
                )
                sys.stdout.writelines(list(diff)[:40])
        for name in stale:
            changed = True
            print(f"ocpp16/_generated/{name} is not generated any more")
        if changed:
            print("codegen: ocpp16/_generated/ is stale; run 'make generate' and commit the result")
            return 1
        print(f"codegen: ocpp16/_generated/ is up to date ({len(files)} files)")
        return 0
    OUTPUT.mkdir(parents=True, exist_ok=True)
    for name in stale:
        (OUTPUT / name).unlink()
    for name, text in files.items():
        (OUTPUT / name).write_text(text, encoding="utf-8")
    print(f"codegen: wrote {len(files)} files to ocpp16/_generated/")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
