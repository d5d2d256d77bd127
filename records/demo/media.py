"""The demo's media: a few fixture files uploaded to charts, some with an assessment."""

from django.core.files.uploadedfile import SimpleUploadedFile

from records.patients import services as patient_services
from records.patients.models import Assessment, Instrument, Patient

MEDIA_SHARE = 0.1
# (fixture file, neutral upload name, description, share attached to an assessment)
MEDIA_FILES = (
    ("sample.webm", "gm-recording.webm", "General movements recording", 1.0),
    ("sample.png", "growth-chart.png", "Growth chart", 0.3),
    ("sample.pdf", "referral-letter.pdf", "Referral letter", 0.0),
)


class _Media:
    """A chart's uploads (mixed into the chart builder)."""

    def chart_media(self, patient: Patient, assessments: list[Assessment]) -> None:
        rng = self.rng
        for fixture, name, description, attach_share in rng.sample(
            MEDIA_FILES, rng.choice((1, 1, 2))
        ):
            assessment = None
            if assessments and rng.random() < attach_share:
                # A recording belongs with the general movements assessment, if any.
                gma = [a for a in assessments if a.instrument == Instrument.PRECHTL_GMA]
                assessment = rng.choice(gma or assessments)
            media = patient_services.media_upload(
                acting_user=self.acting_user,
                patient=patient,
                uploaded_file=SimpleUploadedFile(name, self.media_bytes[fixture]),
                assessment=assessment,
                description=description,
            )
            self.stored.append((media.file.storage, media.file.name))
            self.media += 1
