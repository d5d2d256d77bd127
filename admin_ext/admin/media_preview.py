"""A media file's own page shows the file (image, video or PDF) from a presigned
link made as the page renders; the page's CSP then names the storage origin for
those media alone."""

from django.conf import settings

from records.patients.services.media_preview import (
    media_preview_csp,
    media_preview_open,
)

N_LOCAL_STORE = (
    "No preview here: files are kept on this server's disk (development), and only "
    "the S3 store hands out preview links. Use Download below."
)
N_NOT_SHOWN = "This kind of file is not shown here. Use Download below."


class MediaPreviewMixin:
    """For MediaFileAdmin: the preview on its change page, and nowhere else (one
    link, and one audited opening, per page: never one per row of a list)."""

    change_form_template = "admin_ext/media_change_form.html"

    def render_change_form(
        self, request, context, add=False, change=False, form_url="", obj=None
    ):
        preview = None
        match = request.resolver_match
        on_own_page = (
            match is not None
            and match.url_name == f"{self.opts.app_label}_{self.opts.model_name}_change"
        )
        if obj is not None and obj.pk and on_own_page and request.method == "GET":
            # obj came from get_object: the repositories' query, so a chart the
            # user may open (else the page was a 404 before reaching here).
            preview = media_preview_open(acting_user=request.user, media=obj)
            context["media_preview_note"] = (
                None
                if preview
                else (
                    N_LOCAL_STORE
                    if not hasattr(obj.file.storage, "bucket_name")
                    else N_NOT_SHOWN
                )
            )
        context["media_preview"] = preview
        context["preview_minutes"] = max(1, settings.MEDIA_URL_EXPIRY_SECONDS // 60)
        response = super().render_change_form(
            request, context, add=add, change=change, form_url=form_url, obj=obj
        )
        if preview is not None:
            response._csp_update = media_preview_csp(preview.origin)
        return response
