"""A media file's own page shows the file (image, video or PDF) from a presigned
link made as the page renders; the page's CSP then names the storage origin for
those media alone."""

from django.conf import settings
from unfold.decorators import display

from records.patients.media import content_type_name

from records.patients.services.media_preview import (
    media_preview_csp,
    media_preview_open,
)

# Plain words for clinicians: why there is no preview (this server keeps files on
# its own disk, not in the S3 store that hands out preview links) is for admins.
N_LOCAL_STORE = "Preview not available here. Use Download below."
N_NOT_SHOWN = "This kind of file is not shown here. Use Download below."


class MediaPreviewMixin:
    """For MediaFileAdmin: the preview on its change page, and nowhere else (one
    link, and one audited opening, per page: never one per row of a list)."""

    change_form_template = "admin_ext/media_change_form.html"

    @display(description="File type")
    def file_type(self, obj):
        return content_type_name(obj.content_type) if obj else "-"

    @display(description="Fingerprint (for auditors)")
    def fingerprint(self, obj):
        return obj.sha256 if obj else "-"

    @staticmethod
    def detail_fields(request) -> tuple[str, ...]:
        """The page's facts: the file's fingerprint (SHA-256) for auditors only."""
        shown = ("file_type", "size")
        if request.user.has_perm("audit.view_auditevent"):
            shown += ("fingerprint",)
        return shown

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
