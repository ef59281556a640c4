"""A Sphinx extension for the book's HTML pages (``_config.yml`` loads it): what jupyter-book 1.0 on Sphinx 7.4
gets wrong or does not know about this book.

- **Inline scripts once.** Sphinx 7.4 registers an inline script (``app.add_js_file(None, body=…)``) added after
  its builder started under two names (``None`` and ``""``) and writes it twice into every page; sphinx-thebe's
  ``const THEBE_JS_URL = …`` then throws "Identifier 'THEBE_JS_URL' has already been declared" in the reader's
  console. Each page's scripts are de-duplicated (same source, priority and attributes).
- **Launch the chapter's source.** The chapters the book renders are build outputs (``book/chapters/*.ipynb``,
  executed by papermill), not files of the repository; a launch button (Binder, set up by ``rdcn.book`` where the
  repository's URL is known) opens the chapter's Jupytext source ``notebooks/<chapter>.md`` instead.
"""
from __future__ import annotations

import re
from typing import Any

EXECUTED = re.compile(r"book/chapters/(\d\d_\w+|ledger)\.ipynb")


def _script_key(script: Any) -> tuple:
    attributes = getattr(script, "attributes", {}) or {}
    filename = getattr(script, "filename", script) or ""
    return filename, getattr(script, "priority", 0), tuple(sorted(attributes.items()))


def dedupe_scripts(app, pagename: str, templatename: str, context: dict, doctree) -> None:
    """Keep the first of every page script that occurs twice (see the module's note)."""
    scripts = context.get("script_files")
    if not scripts:
        return
    seen, unique = set(), []
    for script in scripts:
        key = _script_key(script)
        if key not in seen:
            seen.add(key)
            unique.append(script)
    context["script_files"] = unique


def launch_sources(app, pagename: str, templatename: str, context: dict, doctree) -> None:
    """Point every launch button of a chapter at its Jupytext source in the repository (see the module's note)."""
    for group in context.get("header_buttons", []):
        if group.get("label") != "launch-buttons":
            continue
        for button in group.get("buttons", []):
            if "url" in button:
                button["url"] = EXECUTED.sub(lambda match: f"notebooks/{match.group(1)}.md", button["url"])


def setup(app):
    app.connect("html-page-context", dedupe_scripts, priority=900)
    app.connect("html-page-context", launch_sources, priority=900)  # after the theme's buttons (priority 501)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
