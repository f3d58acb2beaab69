"""The shape of the code: data flows one way through `fer/`, the shared types sit at the bottom, the run
time never reaches training code (`fer.training`), Gradio or the dev tooling. Read from the source with `ast`."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
FER = REPO / "fer"
TRAINING = "fer.training"  # the subpackage that trains, evaluates and exports the model
# Outside fer/training/, only these may import it: training and benchmark tooling, and the tests of training.
TRAINING_USERS = ("devtools/", "tests/test_")
PYTHON_FOLDERS = ("fer", "devtools", "tests")  # with app.py, all the project's Python (build/ and .venv/ are not)
RUNTIME_ROOTS = {"fer", "fer.live", "fer.video", "fer.batch", "fer.markdown", "fer.images"}  # the app and CLIs load
ENTRY_POINTS = {"fer.benchmark"}  # `python -m fer.benchmark` hands over to devtools/ when it runs


def module_name(path: Path) -> str:
    parts = path.relative_to(FER.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports_of(path: Path) -> set[str]:
    """Every module a file imports anywhere in it (functions included), as dotted names."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
            found |= {f"{node.module}.{alias.name}" for alias in node.names}  # `from fer import tracking`
    return found


MODULES = {module_name(path): path for path in sorted(FER.rglob("*.py"))}
GRAPH = {name: {dep for dep in imports_of(path) if dep in MODULES and dep != name} for name, path in MODULES.items()}
EXTERNAL = {name: {dep.split(".")[0] for dep in imports_of(path)} for name, path in MODULES.items()}


def reachable(start: str) -> set[str]:
    seen, todo = set(), [start]
    while todo:
        for dep in GRAPH[todo.pop()] - seen:
            seen.add(dep)
            todo.append(dep)
    return seen


def test_the_graph_was_read():
    assert {"fer.types", "fer.pipeline", "fer.draw", "fer.tracking", "fer.session.timeline"} <= set(GRAPH)
    assert "fer.types" in GRAPH["fer.pipeline"]


def test_no_import_cycles():
    cycles = sorted(name for name in GRAPH if name in reachable(name) and name != "fer")
    assert not cycles, f"modules that import themselves through others: {cycles}"


def test_types_sit_at_the_bottom():
    assert reachable("fer.types") <= {"fer.config", "fer.preprocess"}


@pytest.mark.parametrize("module", ["fer.draw", "fer.tracking", "fer.session", "fer.session.facecsv",
                                    "fer.session.timeline", "fer.session.stats", "fer.markdown", "fer.detectors"])
def test_steps_below_the_pipeline_never_reach_up_into_it(module):
    assert "fer.pipeline" not in reachable(module)


def is_training(module: str) -> bool:
    return module == TRAINING or module.startswith(TRAINING + ".")


def test_the_training_subpackage_was_read():
    assert {"fer.training.train", "fer.training.data", "fer.training.export"} <= set(GRAPH)
    assert "fer.training.data" in GRAPH["fer.training.train"]


def test_runtime_never_loads_training_code_gradio_or_dev_tooling():
    for root in RUNTIME_ROOTS:
        runtime = {root} | reachable(root)
        banned = {name for name in runtime if is_training(name) or name in ENTRY_POINTS}
        assert not banned, f"{root} reaches {banned}"
    for name, packages in EXTERNAL.items():
        assert "gradio" not in packages, f"{name} imports gradio: the library stays UI-free"
        if name not in ENTRY_POINTS:
            assert "devtools" not in packages and "tests" not in packages, f"{name} imports dev tooling"


def test_only_training_and_benchmark_tooling_import_the_training_subpackage():
    sources = [REPO / "app.py", *(path for folder in PYTHON_FOLDERS for path in (REPO / folder).rglob("*.py"))]
    assert FER / "pipeline.py" in sources and REPO / "devtools" / "benchmark.py" in sources
    for path in sources:
        relative = path.relative_to(REPO).as_posix()
        if relative.startswith(("fer/training/", *TRAINING_USERS)):
            continue
        assert not any(is_training(name) for name in imports_of(path)), f"{relative} imports {TRAINING}"
