"""HTML templates rendered as PDF by WeasyPrint, which fetches nothing but the files
named here: the letter stylesheet and the clinic's logo.

Every fetch WeasyPrint would make (a stylesheet, an image, a font, whatever a note's
text might smuggle in) passes LocalFilesFetcher, which serves those few local files
and refuses every other address: rendering a chart never makes the server open a URL.
"""

import mimetypes
from functools import cache
from pathlib import Path

from django.contrib.staticfiles import finders
from django.template.loader import render_to_string

LETTER_CSS = "admin_ext/letters/letter.css"
E_REFUSED = "NDAS fetches no resource for a PDF but its own files: {url!r} refused."


@cache
def _fetcher_class():
    """WeasyPrint is imported when a PDF is first made, not when NDAS starts (it
    loads Pango and takes about a second: every process and command would pay it)."""
    from weasyprint.urls import URLFetcher, URLFetcherResponse

    class LocalFilesFetcher(URLFetcher):
        """Serves the given local files by their file:// URL; refuses anything
        else (and keeps what it refused, for tests)."""

        def __init__(self, files: list[str]):
            super().__init__(allowed_protocols=("file",), allow_redirects=False)
            self.files = {Path(p).resolve().as_uri(): Path(p) for p in files}
            self.refused: list[str] = []

        def fetch(self, url, headers=None):
            path = self.files.get(url)
            if path is None:
                self.refused.append(url[:200])
                raise ValueError(E_REFUSED.format(url=url[:200]))
            content_type = mimetypes.guess_type(path.name)[0]
            return URLFetcherResponse(
                url,
                body=path.read_bytes(),
                headers={"Content-Type": content_type or "application/octet-stream"},
            )

    return LocalFilesFetcher


def local_files_fetcher(files: list[str]):
    """A WeasyPrint URL fetcher serving exactly these local files, nothing else."""
    return _fetcher_class()(files)


def stylesheet_path() -> str:
    found = finders.find(LETTER_CSS)
    if not found:  # pragma: no cover - shipped with the app
        raise FileNotFoundError(LETTER_CSS)
    return str(Path(found).resolve())


def render_pdf(template: str, context: dict, *, logo_path: str = "") -> bytes:
    """The template rendered to PDF bytes; `logo_path` (optional) is the one image
    the page may show, as the template's `logo_url`."""
    from weasyprint import HTML

    css = stylesheet_path()
    fetcher = local_files_fetcher([css] + ([logo_path] if logo_path else []))
    html = render_to_string(
        template,
        {
            **context,
            "stylesheet_url": Path(css).as_uri(),
            "logo_url": Path(logo_path).resolve().as_uri() if logo_path else "",
        },
    )
    # No base URL: a relative address in the page resolves to nothing to fetch.
    return HTML(string=html, url_fetcher=fetcher).write_pdf()


def warm_up() -> bytes:
    """A blank letter (no record, nothing read from the database): WeasyPrint is
    imported and its first render's setup is done, so a web process's first real
    letter takes what the rest take (gunicorn.conf.py's post_worker_init)."""
    return render_pdf("admin_ext/letters/letter.html", {})
