"""_core.pyi, the types of the compiled module, names every function and class the module defines."""

from __future__ import annotations

import ast
from pathlib import Path

from flb_fast import _core

STUBS = Path(_core.__file__).parent / "_core.pyi"


def stub_names() -> set[str]:
    tree = ast.parse(STUBS.read_text())
    names = {node.name for node in tree.body if isinstance(node, ast.FunctionDef | ast.ClassDef)}
    names |= {node.target.id for node in tree.body if isinstance(node, ast.AnnAssign)
              and isinstance(node.target, ast.Name)}
    return names | {target.id for node in tree.body if isinstance(node, ast.Assign)
                    for target in node.targets if isinstance(target, ast.Name)}


def test_every_public_function_and_class_of_the_compiled_module_has_a_stub() -> None:
    defined = {
        name for name, value in vars(_core).items()
        if not name.startswith("_") and getattr(value, "__module__", None) == "flb_fast._core"
    }
    assert defined - stub_names() == set()


def test_every_stub_names_something_the_compiled_module_has() -> None:
    assert stub_names() - set(vars(_core)) == set()
