"""The notebooks in docs/notebooks execute top to bottom (nbclient).

Each notebook runs in its own kernel, mostly one Python thread at a time
(imports, training, plotting), so they run two at a time: the first test
starts them all and each test then checks its own notebook's outcome.
"""

import pathlib
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Dict

import pytest

NOTEBOOKS = sorted((pathlib.Path(__file__).resolve().parents[1] / "docs" / "notebooks").glob("*.ipynb"))


def _execute(path: pathlib.Path):
    import nbformat
    from nbclient import NotebookClient

    notebook = nbformat.read(path, as_version=4)
    # Plots use the kernel's inline backend: they render to PNG, no display needed.
    NotebookClient(notebook, timeout=600, kernel_name="python3",
                   resources={"metadata": {"path": str(path.parent)}}).execute()
    return notebook


@pytest.fixture(scope="module")
def runs():
    """Every notebook's execution, two at a time (a Future per notebook)."""
    with ThreadPoolExecutor(max_workers=2) as pool:
        yield {path: pool.submit(_execute, path) for path in NOTEBOOKS}


def test_every_notebook_is_found():
    assert len(NOTEBOOKS) >= 4


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_runs(runs: Dict[pathlib.Path, Future], path):
    notebook = runs[path].result()          # raises the cell's error, if any (nbclient's CellExecutionError)
    errors = [o for cell in notebook.cells if cell.cell_type == "code" for o in cell.get("outputs", [])
              if o.get("output_type") == "error"]
    assert not errors
