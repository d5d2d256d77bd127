"""The tests' own layout: a test module imports shared helpers from tests/helpers.py,
tests/factories.py or tests/support/, never from a `test_*` module or a conftest
(shared fixtures reach their tests through the conftest of a common parent)."""

import ast
from pathlib import Path

TESTS = Path(__file__).resolve().parent


def _forbidden(module: str) -> bool:
    return any(
        part.startswith("test_") or part == "conftest" for part in module.split(".")
    )


def _package(path: Path, root: Path) -> list[str]:
    return [root.name, *path.relative_to(root).parent.parts]


def imports_of_tests(path: Path, root: Path) -> list[str]:
    """The modules of `root` (a tests package) that the file at `path` imports, as
    dotted names (`from a import b` gives a.b too: b may be a module)."""
    package = _package(path, root)
    found = []
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            found += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package[: len(package) - node.level + 1]
                module = ".".join([*base, *filter(None, [node.module])])
            else:
                module = node.module or ""
            found.append(module)
            found += [f"{module}.{alias.name}" for alias in node.names]
    return [name for name in found if name.split(".")[0] == root.name]


def violations(root: Path) -> list[str]:
    """Each import, under `root`, of a `test_*` module or a conftest (or of a name
    from one), as "file: module"."""
    return [
        f"{path.relative_to(root.parent)}: {module}"
        for path in sorted(root.rglob("*.py"))
        for module in imports_of_tests(path, root)
        if _forbidden(module)
    ]


def test_no_test_module_imports_a_test_module_or_a_conftest():
    assert violations(TESTS) == []


def test_the_guard_finds_each_kind_of_violation(tmp_path):
    root = tmp_path / "tests"
    (root / "suite").mkdir(parents=True)
    (root / "helpers.py").write_text("X = 1\n")
    (root / "suite" / "test_ok.py").write_text(
        "from tests.helpers import X\nimport tests.helpers\nfrom tests import helpers\n"
    )
    (root / "suite" / "test_bad.py").write_text(
        "from tests.suite.test_ok import X\n"
        "from tests.suite import conftest\n"
        "def f():\n"
        "    import tests.other.test_more\n"
        "    from .conftest import world\n"
    )
    assert violations(root) == [
        "tests/suite/test_bad.py: tests.suite.test_ok",
        "tests/suite/test_bad.py: tests.suite.test_ok.X",
        "tests/suite/test_bad.py: tests.suite.conftest",
        "tests/suite/test_bad.py: tests.other.test_more",
        "tests/suite/test_bad.py: tests.suite.conftest",
        "tests/suite/test_bad.py: tests.suite.conftest.world",
    ]
