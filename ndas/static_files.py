"""WhiteNoise's static files storage, each file's address worked out once.

Every page asks for the addresses of the same few dozen files (unfold's styles and
scripts, NDAS's own), and each `{% static %}` looked the hashed name up in the
manifest through Django's name cleaning and URL joining again. The manifest is
written by `collectstatic` before the process starts and does not change while it
runs, so each name's address is kept (a name missing from the manifest raises as
before, and is not kept).
"""

from whitenoise.storage import CompressedManifestStaticFilesStorage

KEPT = 2_000  # names kept; past that the memo starts again


class StaticFiles(CompressedManifestStaticFilesStorage):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._addresses: dict[str, str] = {}

    def url(self, name, force=False):
        if force:
            return super().url(name, force)
        address = self._addresses.get(name)
        if address is None:
            address = super().url(name)
            if len(self._addresses) >= KEPT:
                self._addresses.clear()
            self._addresses[name] = address
        return address
