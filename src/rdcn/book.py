"""Execute the chapter notebooks of one run and build its HTML book: ``python -m rdcn.book`` (the Makefile calls it).

The run's parameters come from the command line or, where a flag is not given, from the environment variables the
Makefile exports (``RDCN_PROFILE``, ``RDCN_DEVICE``, ``RDCN_DATA_DIR``, ``RDCN_SEED``, ``RDCN_SIZES``) — never through
a shell, so a data folder may hold any character. Sub-commands:

- ``name``: print the run's name (:class:`rdcn.core.runs.Run`);
- ``execute [--chapter NN]``: convert each Jupytext notebook (``notebooks/NN_*.md``, then the ledger) to ``.ipynb``
  and execute it with papermill at the run's parameters, showing which chapter runs, a progress bar of its cells
  and its wall time. A notebook whose source, package code and parameters are unchanged since its last execution
  is skipped. Each is written to a temporary file and renamed into place on success; a failed one is kept under
  ``_build/failed/`` for inspection and never left behind as a result;
- ``build``: ``execute``, then the run's HTML with jupyter-book (``-W``); prints where ``index.html`` is;
- ``prepare --out FOLDER``: write every notebook with the run's parameters injected, unexecuted (for nbval);
- ``runs``: list the runs whose results are present, with their parameters and claims;
- ``compare RUN_A RUN_B``: every claim's verdict in two runs side by side, those that differ marked (e.g. the book
  beside ``book-seed1``: the claims whose verdict changes with the seed).
"""
from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from .core import paths
from .core.runs import Run

KERNEL = "rdcn"
KERNELSPEC = {"name": KERNEL, "display_name": "Python (rdcn)", "language": "python"}
BOOK_FILES = ("_config.yml", "_toc.yml")
BOOK_PAGES = "book"  # its Markdown pages and bibliography are copied beside another run's chapters


def notebooks(chapter: str | None = None) -> list[Path]:
    """The chapter notebooks in order, then the ledger; with ``chapter`` (e.g. ``"03"`` or the full stem) only
    that one (a ValueError listing them if it matches none)."""
    folder = paths.project_root() / "notebooks"
    found = sorted(folder.glob("[0-9]*.md")) + [folder / "ledger.md"]
    if chapter is None:
        return found
    chosen = [p for p in found if p.stem == chapter or p.stem.split("_")[0] == chapter]
    if not chosen:
        raise ValueError(f"chapter must be one of {[p.stem for p in found]} (or its number), got {chapter!r}")
    return chosen


def _package_digest() -> str:
    digest = hashlib.sha256()
    for path in sorted((paths.project_root() / "src" / "rdcn").rglob("*.py")):
        digest.update(path.read_bytes())
    return digest.hexdigest()


def _benchmarks_digest() -> str:
    """The digest of ``results/benchmarks.json`` (the ledger shows it), '' where there is none."""
    path = paths.benchmarks_file()
    return hashlib.sha256(path.read_bytes()).hexdigest() if path.is_file() else ""


def stamp(source: Path, run: Run, upstream: str = "") -> str:
    """What an executed notebook depends on: its source, the package's code, the run's parameters (and, for the
    ledger, the chapters' own stamps and the benchmark's results)."""
    parts = (source.read_bytes(), _package_digest().encode(), repr(sorted(run.parameters().items())).encode(),
             upstream.encode())
    return hashlib.sha256(b"\0".join(parts)).hexdigest()


def _to_ipynb(source: Path, target: Path, run: Run, prepare_only: bool, progress: bool) -> None:
    import jupytext
    import papermill

    notebook = jupytext.read(source)
    notebook.metadata["kernelspec"] = dict(KERNELSPEC)
    with tempfile.TemporaryDirectory() as scratch:
        raw = Path(scratch) / f"{source.stem}.ipynb"
        jupytext.write(notebook, raw)
        papermill.execute_notebook(str(raw), str(target), parameters=run.parameters(), kernel_name=KERNEL,
                                   prepare_only=prepare_only, progress_bar=progress, cwd=str(paths.project_root()))


def _read_stamp(path: Path) -> str | None:
    import nbformat

    if not path.is_file():
        return None
    try:
        return nbformat.read(path, as_version=4).metadata.get("rdcn", {}).get("stamp")
    except Exception:  # an unreadable notebook is simply stale
        return None


def execute(run: Run, chapter: str | None = None, force: bool = False) -> list[Path]:
    """Execute the notebooks of ``run`` (see the module's note); returns the executed notebooks' paths."""
    import nbformat

    sources = notebooks(chapter)
    run.chapters_dir.mkdir(parents=True, exist_ok=True)
    done, stamps = [], []
    for index, source in enumerate(sources, start=1):
        target = run.chapters_dir / f"{source.stem}.ipynb"
        wanted = stamp(source, run, "".join(stamps) + _benchmarks_digest() if source.stem == "ledger" else "")
        stamps.append(wanted)
        header = f"[{index}/{len(sources)}] {source.stem} (run {run.name})"
        if not force and _read_stamp(target) == wanted:
            print(f"{header}: up to date", flush=True)
            done.append(target)
            continue
        print(f"{header}: executing", flush=True)
        start = time.perf_counter()
        partial = target.with_name(f".{target.stem}.{os.getpid()}.ipynb")
        try:
            _to_ipynb(source, partial, run, prepare_only=False, progress=True)
        except BaseException:
            if partial.is_file():
                failed = paths.build_dir() / "failed" / run.name / target.name
                failed.parent.mkdir(parents=True, exist_ok=True)
                os.replace(partial, failed)
                print(f"{header}: FAILED; the partly executed notebook is {failed}", file=sys.stderr, flush=True)
            target.unlink(missing_ok=True)
            raise
        notebook = nbformat.read(partial, as_version=4)
        for cell in notebook.cells:  # papermill's injected parameters are plumbing: not shown in the book
            tags = cell.metadata.get("tags", [])
            if "injected-parameters" in tags and "remove-cell" not in tags:
                cell.metadata["tags"] = [*tags, "remove-cell"]
        notebook.metadata["rdcn"] = dict(stamp=wanted, run=run.name, wall_time_s=round(time.perf_counter() - start, 1))
        nbformat.write(notebook, partial)
        os.replace(partial, target)
        print(f"{header}: done in {time.perf_counter() - start:.0f} s", flush=True)
        done.append(target)
    return done


def _source_tree(run: Run) -> Path:
    """The book source of ``run``: the checkout for the default run; else a copy of the book's configuration and
    pages in the run's folder, beside its executed chapters."""
    root, source = paths.project_root(), run.source_dir
    if run.is_default:
        return source
    for name in BOOK_FILES:
        shutil.copy2(root / name, source / name)
    for page in (root / BOOK_PAGES).iterdir():
        if page.is_file():
            shutil.copy2(page, source / BOOK_PAGES / page.name)
    return source


def _launch_config(run: Run) -> Path | None:
    """Where the repository's URL is known (``RDCN_REPOSITORY_URL``, which the Pages workflow sets; its branch
    ``RDCN_REPOSITORY_BRANCH``, default ``main``), the book's configuration plus the repository button and a Binder
    launch button on every chapter (opening the chapter's Jupytext source, see :mod:`rdcn.book_html`), written to
    ``_build/config/<run>/_config.yml``; else None: a local build has no launch button."""
    import yaml

    url = os.environ.get("RDCN_REPOSITORY_URL", "").strip()
    if not url:
        return None
    config = yaml.safe_load((paths.project_root() / "_config.yml").read_text())
    config["repository"] = dict(url=url, branch=os.environ.get("RDCN_REPOSITORY_BRANCH") or "main", path_to_book="")
    config.setdefault("html", {})["use_repository_button"] = True
    launch = config.setdefault("launch_buttons", {})
    launch.update(binderhub_url="https://mybinder.org", notebook_interface="jupyterlab")
    target = paths.build_dir() / "config" / run.name / "_config.yml"
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(f".{target.name}.{os.getpid()}")
    partial.write_text(yaml.safe_dump(config, sort_keys=False, allow_unicode=True))
    os.replace(partial, target)
    return target


def build(run: Run, force: bool = False) -> Path:
    """Execute the run's notebooks and build its HTML book; returns the path of its ``index.html``."""
    execute(run, force=force)
    source = _source_tree(run)
    command = [str(Path(sys.executable).parent / "jupyter-book"), "build", str(source), "--builder", "html", "-W",
               "--keep-going"]
    if not run.is_default:
        command += ["--path-output", str(source)]
    config = _launch_config(run)
    if config is not None:
        command += ["--config", str(config)]
    subprocess.run(command, check=True, cwd=paths.project_root())
    index = run.html_dir / "index.html"
    print(f"The book of run {run.name}: file://{index}")
    return index


def prepare(run: Run, out: Path) -> list[Path]:
    """Every notebook with ``run``'s parameters injected, unexecuted, in ``out`` (for nbval)."""
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for source in notebooks():
        target = out / f"{source.stem}.ipynb"
        _to_ipynb(source, target, run, prepare_only=True, progress=False)
        written.append(target)
    return written


def runs() -> list[dict]:
    """The runs with results present: name, parameters, chapters present, claims holding, and their book's path."""
    found = []
    root = paths.results_dir()
    for folder in sorted(p for p in root.iterdir() if p.is_dir()) if root.is_dir() else []:
        files = sorted(folder.glob("*.json"))
        if not files:
            continue
        chapters = [json.loads(f.read_text()) for f in files]
        first = chapters[0]
        run = Run.of(first["profile"], first["seed"], first["device"], first["data_dir"], first["sizes"])
        states = [c["verdict"]["state"] for r in chapters for c in r["claims"].values()]
        found.append(dict(run=folder.name, profile=run.profile, seed=run.seed, device=run.device,
                          data_dir=run.data_dir or "-", sizes=run.sizes_json if run.sizes else "-",
                          chapters=len(chapters), claims=f"{states.count('holds')}/{len(states)} hold",
                          book=str(run.html_dir / "index.html") if (run.html_dir / "index.html").is_file() else "-"))
    return found


def compare(first: str, second: str) -> list[dict]:
    """Every claim of the chapters both runs hold, with its verdict in each (``differs`` where they disagree)."""
    from .core.results import load_run

    results = {}
    for name in (first, second):
        folder = paths.results_dir() / name
        chapters = tuple(p.stem for p in sorted(folder.glob("*.json")))
        if not chapters:
            raise ValueError(f"no results for run {name!r} in {paths.results_dir()}; runs present: "
                             f"{[r['run'] for r in runs()]}")
        results[name] = load_run(folder, chapters)
    rows = []
    for chapter in [c for c in results[first] if c in results[second]]:
        a, b = results[first][chapter]["claims"], results[second][chapter]["claims"]
        for claim_id in [c for c in a if c in b]:
            va, vb = a[claim_id]["verdict"], b[claim_id]["verdict"]
            rows.append(dict(chapter=chapter, claim=claim_id, **{first: va["state"], second: vb["state"]},
                             differs=va["state"] != vb["state"]))
    return rows


def _print_table(rows: list[dict]) -> None:
    if not rows:
        print("(none)")
        return
    columns = list(rows[0])
    widths = [max(len(str(c)), *(len(str(r[c])) for r in rows)) for c in columns]
    print("  ".join(str(c).ljust(w) for c, w in zip(columns, widths)))
    for row in rows:
        print("  ".join(str(row[c]).ljust(w) for c, w in zip(columns, widths)))


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m rdcn.book", description=__doc__.splitlines()[0])
    parser.add_argument("command", choices=("name", "execute", "build", "prepare", "runs", "compare"))
    parser.add_argument("names", nargs="*", help="compare: the two runs (e.g. book book-seed1)")
    parser.add_argument("--profile"), parser.add_argument("--device"), parser.add_argument("--data-dir")
    parser.add_argument("--seed"), parser.add_argument("--sizes", help="size overrides: JSON text or a .json file")
    parser.add_argument("--chapter", help="execute one chapter only (its number or name)")
    parser.add_argument("--force", action="store_true", help="execute even the notebooks that are up to date")
    parser.add_argument("--out", type=Path, help="prepare: the folder to write the notebooks to")
    args = parser.parse_args(argv)
    try:
        run = Run.from_environment(profile=args.profile, seed=args.seed, device=args.device, data_dir=args.data_dir,
                                   sizes=args.sizes)
    except ValueError as error:
        raise SystemExit(str(error)) from None
    if args.command == "name":
        print(run.name)
    elif args.command == "runs":
        _print_table(runs())
    elif args.command == "compare":
        if len(args.names) != 2:
            parser.error("compare needs two run names, e.g. `compare book book-seed1`")
        rows = compare(*args.names)
        _print_table(rows)
        print(f"{sum(r['differs'] for r in rows)} of {len(rows)} claims change their verdict between the two runs")
    elif args.command == "execute":
        execute(run, args.chapter, args.force)
    elif args.command == "build":
        build(run, args.force)
    else:
        if args.out is None:
            parser.error("prepare needs --out FOLDER")
        prepare(run, args.out)


if __name__ == "__main__":
    main()
