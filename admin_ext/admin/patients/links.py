"""Links to a chart's records from the patient admin pages."""

from django.urls import reverse
from django.utils.html import format_html

from records.patients.models import MediaFile


def admin_link(obj, text=None, url: str = "") -> str:
    """A link to the record's change page (`url` when the caller has it already)."""
    if not url:
        opts = obj._meta
        url = reverse(f"admin:{opts.app_label}_{opts.model_name}_change", args=[obj.pk])
    return format_html('<a class="text-primary-600" href="{}">{}</a>', url, text or obj)


def media_download_link(media: MediaFile, url: str = "") -> str:
    url = url or reverse("admin:patients_mediafile_download", args=[media.pk])
    return format_html('<a class="text-primary-600" href="{}">Download</a>', url)
