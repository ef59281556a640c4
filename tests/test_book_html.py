"""The book's Sphinx extension (rdcn.book_html) and the launch-button configuration of rdcn.book."""
from types import SimpleNamespace

import yaml

from rdcn import book, book_html
from rdcn.core.runs import Run


def _script(filename, priority=500, **attributes):
    return SimpleNamespace(filename=filename, priority=priority, attributes=attributes)


def test_inline_scripts_are_written_once():
    thebe = 'const THEBE_JS_URL = "x"'
    scripts = [_script("_static/a.js"), _script(None, body=thebe), _script("", body=thebe), _script("_static/a.js"),
               _script("", body="var other = 1")]
    context = {"script_files": scripts}
    book_html.dedupe_scripts(None, "page", "page.html", context, None)
    assert [(s.filename, s.attributes.get("body")) for s in context["script_files"]] == [
        ("_static/a.js", None), (None, thebe), ("", "var other = 1")]


def test_launch_buttons_open_the_chapters_jupytext_source():
    url = "https://mybinder.org/v2/gh/o/r/main?urlpath=lab/tree/book/chapters/03_random_cnn_random_dcn.ipynb"
    download = "_sources/book/chapters/x.ipynb"
    context = {"header_buttons": [{"label": "launch-buttons", "buttons": [{"url": url}]},
                                  {"label": "download-buttons", "buttons": [{"url": download}]}]}
    book_html.launch_sources(None, "page", "page.html", context, None)
    launch, downloads = context["header_buttons"]
    assert launch["buttons"][0]["url"].endswith("urlpath=lab/tree/notebooks/03_random_cnn_random_dcn.md")
    assert downloads["buttons"][0]["url"] == download


def test_a_launch_button_only_where_the_repository_is_known(tmp_path, monkeypatch):
    monkeypatch.setenv("RDCN_BUILD_DIR", str(tmp_path))
    monkeypatch.delenv("RDCN_REPOSITORY_URL", raising=False)
    assert book._launch_config(Run.of("smoke")) is None
    monkeypatch.setenv("RDCN_REPOSITORY_URL", "https://github.com/someone/rdcn")
    monkeypatch.setenv("RDCN_REPOSITORY_BRANCH", "pages")
    path = book._launch_config(Run.of("smoke"))
    config = yaml.safe_load(path.read_text())
    assert path == tmp_path / "config" / "smoke" / "_config.yml"
    assert config["repository"] == dict(url="https://github.com/someone/rdcn", branch="pages", path_to_book="")
    assert config["launch_buttons"]["binderhub_url"] and config["html"]["use_repository_button"]
    assert "rdcn.book_html" in config["sphinx"]["extra_extensions"]  # the rest of the book's configuration is kept
