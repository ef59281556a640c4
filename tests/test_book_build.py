"""The book builder (rdcn.book) and the Makefile's parameter passing: nothing half-written, nothing stale, no shell
interpolation of parameters."""
import shutil
import subprocess

import nbformat
import pytest

from rdcn import book
from rdcn.core import paths
from rdcn.core.runs import Run

NOTEBOOK = """---
jupytext:
  text_representation: {extension: .md, format_name: myst}
kernelspec: {display_name: Python (rdcn), language: python, name: rdcn}
---

# A page

```{code-cell} ipython3
:tags: [parameters]
profile = "book"
```

```{code-cell} ipython3
%s
```
"""


@pytest.fixture
def project(tmp_path, monkeypatch):
    """A run whose folders are in tmp_path, and one notebook whose body the test writes."""
    monkeypatch.setenv("RDCN_BUILD_DIR", str(tmp_path / "build"))
    source = tmp_path / "01_page.md"
    monkeypatch.setattr(book, "notebooks", lambda chapter=None: [source])
    return Run.of("smoke", seed=7), source


def _kernel_installed():
    return shutil.which("jupyter") is not None or (paths.project_root() / ".venv").is_dir()


pytestmark = pytest.mark.skipif(not _kernel_installed(), reason="needs the rdcn Jupyter kernel (make install)")


def test_a_failing_notebook_leaves_no_result_and_keeps_its_partial_copy(project, capsys):
    run, source = project
    source.write_text(NOTEBOOK % 'raise RuntimeError("boom")')
    with pytest.raises(Exception, match="boom"):
        book.execute(run)
    assert not (run.chapters_dir / "01_page.ipynb").exists()
    assert not list(run.chapters_dir.glob(".*"))  # no partial file under the chapters
    assert (paths.build_dir() / "failed" / run.name / "01_page.ipynb").is_file()


def test_an_executed_notebook_is_stamped_and_skipped_until_its_inputs_change(project, capsys):
    run, source = project
    source.write_text(NOTEBOOK % "print(profile)")
    book.execute(run)
    target = run.chapters_dir / "01_page.ipynb"
    notebook = nbformat.read(target, as_version=4)
    assert notebook.metadata["rdcn"]["run"] == run.name
    injected = [c for c in notebook.cells if "injected-parameters" in c.metadata.get("tags", [])]
    assert injected and "remove-cell" in injected[0].metadata["tags"]  # papermill's cell is not shown
    assert "smoke" in "".join(o.get("text", "") for c in notebook.cells for o in c.get("outputs", []))
    book.execute(run)
    assert "up to date" in capsys.readouterr().out
    source.write_text(NOTEBOOK % "print(profile, 2)")
    book.execute(run)
    assert "smoke 2" in "".join(o.get("text", "") for c in nbformat.read(target, as_version=4).cells
                                 for o in c.get("outputs", []))


@pytest.mark.parametrize("data_dir", ['/tmp/x"; touch {canary}; echo "', "/tmp/it's here", "/tmp/$(touch {canary})"])
def test_make_passes_parameters_without_a_shell(tmp_path, data_dir):
    canary = tmp_path / "canary"
    data_dir = data_dir.format(canary=canary)
    command = ["make", "-s", "--no-print-directory", "name", f"DATA_DIR={data_dir}", "PROFILE=smoke"]
    result = subprocess.run(command, cwd=paths.project_root(), capture_output=True, text=True, check=True)
    assert not canary.exists()
    assert result.stdout.strip().splitlines()[-1] == Run.of("smoke", data_dir=data_dir).name
