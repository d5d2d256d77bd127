"""Where media files are stored: a private S3 bucket whose objects a browser saves,
and shows only through a preview link that names the type checked at upload."""

from storages.backends.s3 import S3Storage


class MediaStorage(S3Storage):
    """Each object is stored with `Content-Disposition: attachment` and, as its
    `Content-Type`, the type its content was checked to be (the `content_type` the
    media service sets on the file; never the browser's word). Other files (import
    spreadsheets) keep the type their name says.

    S3 keeps no `X-Content-Type-Options` header on an object: a download is a
    presigned link that names the disposition and type again
    (services.media.media_download_url), which is what keeps a browser from
    rendering it; a preview's link (services.media_preview) names `inline` and the
    same checked type, so an image, video or PDF is all it can render as.
    """

    def get_object_parameters(self, name: str) -> dict:
        params = super().get_object_parameters(name)
        params["ContentDisposition"] = "attachment"
        return params
