"""Static files' addresses are the manifest's, worked out once per name."""

import json

import pytest
from whitenoise.storage import CompressedManifestStaticFilesStorage

from ndas import static_files
from ndas.static_files import StaticFiles

MANIFEST = {
    "paths": {"admin_ext/a11y.css": "admin_ext/a11y.1a2b3c.css", "x.js": "x.9f.js"},
    "version": "1.1",
    "hash": "0",
}


@pytest.fixture
def storages(tmp_path, settings):
    settings.DEBUG = False
    (tmp_path / "staticfiles.json").write_text(json.dumps(MANIFEST))
    made = [
        kind(location=str(tmp_path), base_url="/static/")
        for kind in (StaticFiles, CompressedManifestStaticFilesStorage)
    ]
    return made


def test_the_addresses_are_whitenoises(storages):
    ours, theirs = storages
    for name in ("admin_ext/a11y.css", "x.js", "admin_ext/a11y.css"):
        assert ours.url(name) == theirs.url(name)
    assert ours.url("x.js") == "/static/x.9f.js"
    assert ours.url("x.js", force=True) == theirs.url("x.js", force=True)


def test_a_name_missing_from_the_manifest_raises_every_time(storages):
    ours, _ = storages
    for _ in range(2):
        with pytest.raises(ValueError, match="Missing staticfiles manifest entry"):
            ours.url("missing.css")


def test_a_kept_address_is_not_looked_up_again_and_the_memo_is_bounded(
    storages, monkeypatch
):
    ours, _ = storages
    assert ours.url("x.js") == "/static/x.9f.js"
    ours.hashed_files["x.js"] = "x.changed.js"  # the manifest is read once
    assert ours.url("x.js") == "/static/x.9f.js"
    monkeypatch.setattr(static_files, "KEPT", 1)
    assert ours.url("admin_ext/a11y.css") == "/static/admin_ext/a11y.1a2b3c.css"
    assert ours.url("x.js") == "/static/x.changed.js"  # the memo started again
