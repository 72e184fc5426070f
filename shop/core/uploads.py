"""Uploads are bounded while they arrive, not after.

Every file the back office takes is an import, and an import takes at most IMPORT_MAX_FILE_SIZE
bytes. Django's own handlers would first write the whole upload (50 MB, 500 MB...) to the system's
temporary folder and only then let a view look at its size; `SizeLimitedUploadHandler`, first in
FILE_UPLOAD_HANDLERS, counts each file's bytes as they arrive and drops the file at the first
chunk past the limit, so the handlers after it never write more than that and the rest of the
body is read and discarded. The request then says which file was dropped
(`request.refused_uploads`), so the page can say why instead of "choose a file".
"""

from django.conf import settings
from django.core.files.uploadhandler import FileUploadHandler, SkipFile


def upload_limit() -> int:
    return int(settings.IMPORT_MAX_FILE_SIZE)


def refused_uploads(request) -> list[str]:
    """The field names of the files dropped for their size in this request."""
    return list(getattr(request, "refused_uploads", ()))


class SizeLimitedUploadHandler(FileUploadHandler):
    def new_file(self, field_name, *args, **kwargs):
        super().new_file(field_name, *args, **kwargs)
        self.received = 0

    def receive_data_chunk(self, raw_data, start):
        self.received += len(raw_data)
        if self.received > upload_limit():
            if self.request is not None:
                if not hasattr(self.request, "refused_uploads"):
                    self.request.refused_uploads = []
                self.request.refused_uploads.append(self.field_name)
            raise SkipFile
        return raw_data

    def file_complete(self, file_size):
        return None  # the next handler makes the file
