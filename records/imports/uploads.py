"""The import upload's size, checked as the request body streams in.

Django parses a multipart body before any view runs (the CSRF check reads the
form), keeping small files in memory and larger ones on disk. This handler comes
first in settings.FILE_UPLOAD_HANDLERS: on the import upload page only, a file
whose request declares more than IMPORT_MAX_BYTES, or which grows past it, is
dropped at once (SkipFile: the handlers after it get no more of it, and what they
hold is closed and deleted); the rest of the form is parsed, and the page shows
the error. Other uploads (media, with limits of their own) pass untouched.
"""

from django.conf import settings
from django.core.files.uploadhandler import FileUploadHandler, SkipFile
from django.urls import reverse

# Room for the form's other fields and the multipart framing.
FORM_OVERHEAD = 64 * 1024
_REFUSED = "_ndas_import_upload_refused"


def upload_refused(request) -> bool:
    """Whether this request's import file was dropped for its size."""
    return getattr(request, _REFUSED, False)


class ImportUploadLimit(FileUploadHandler):
    def __init__(self, request=None):
        super().__init__(request)
        # request.path, like reverse(), includes the script prefix, if any.
        self.applies = request is not None and request.path == reverse(
            "admin:imports_importjob_upload"
        )
        self.limit = settings.IMPORT_MAX_BYTES

    def new_file(self, *args, **kwargs) -> None:
        super().new_file(*args, **kwargs)
        if not self.applies:
            return
        try:
            declared = int(self.request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            declared = 0
        if declared > self.limit + FORM_OVERHEAD:
            self._refuse()  # not one byte of it is kept

    def receive_data_chunk(self, raw_data: bytes, start: int) -> bytes:
        if self.applies and start + len(raw_data) > self.limit:
            self._refuse()
        return raw_data  # the next handler stores it

    def file_complete(self, file_size: int):
        return None  # the next handler makes the file

    def _refuse(self):
        setattr(self.request, _REFUSED, True)
        raise SkipFile
