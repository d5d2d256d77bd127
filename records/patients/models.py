"""A patient's chart: demographics, neurodevelopmental assessments and their media.

Why one module past 400 lines: it is the patients app's models module, one job
(the chart's tables: Patient, Assessment, MediaFile, their choices, the chart's
object permissions and emergency access), where Django and the migrations look
for them; each model is short, and split across files they would still import
each other's choices and the versioned base.
"""

import uuid
from pathlib import PurePosixPath

from django.conf import settings
from django.contrib.postgres.indexes import GinIndex
from django.core.exceptions import ValidationError
from django.db import models
from guardian.models import GroupObjectPermissionBase, UserObjectPermissionBase

from records.common.display import show_date
from records.common.text import E_HIDDEN_CHARACTERS, HIDDEN
from records.common.models import BoundedTextField, TimeStampedModel, change_history
from records.patients import ages, validators
from records.patients.fields import MRNField, PhoneNumberField


class Sex(models.TextChoices):
    FEMALE = "female", "Female"
    MALE = "male", "Male"
    OTHER = "other", "Other"
    UNKNOWN = "unknown", "Unknown"


class GrowthReference(models.TextChoices):
    """The growth charts a child is measured against (rcpchgrowth's references)."""

    UK_WHO = "uk-who", "UK-WHO"
    TRISOMY_21 = "trisomy-21", "Trisomy 21 (Down syndrome)"
    TURNER = "turners-syndrome", "Turner syndrome"


E_TURNER_FEMALE_ONLY = "The Turner syndrome reference is only for girls."


class PatientStatus(models.TextChoices):
    ACTIVE = "active", "Active"
    ARCHIVED = "archived", "Archived"
    DECEASED = "deceased", "Deceased"


class GuardianRelationship(models.TextChoices):
    MOTHER = "mother", "Mother"
    FATHER = "father", "Father"
    GRANDPARENT = "grandparent", "Grandparent"
    FOSTER_CARER = "foster_carer", "Foster carer"
    LEGAL_GUARDIAN = "legal_guardian", "Legal guardian"
    OTHER = "other", "Other"


class RecordStatus(models.TextChoices):
    DRAFT = "draft", "Draft"
    FINAL = "final", "Final"


class VersionedModel(TimeStampedModel):
    """A row edited through forms: `version` detects edits made from a stale copy."""

    version = models.PositiveIntegerField(default=1, editable=False)

    class Meta:
        abstract = True


NAME_FIELDS = ("given_name", "family_name", "preferred_name", "guardian_name")


class Patient(VersionedModel):
    mrn = MRNField(
        "MRN",
        max_length=20,
        unique=True,
        validators=[validators.mrn_validate],
        help_text="Medical record number: letters, digits and dashes.",
    )
    given_name = models.CharField(max_length=100)
    family_name = models.CharField(max_length=100)
    preferred_name = models.CharField(max_length=100, blank=True)
    date_of_birth = models.DateField(
        validators=[validators.date_not_in_future, validators.date_not_before_1900]
    )
    sex = models.CharField(max_length=10, choices=Sex.choices)
    gestational_age_weeks = models.PositiveSmallIntegerField(
        "gestation at birth (weeks)",
        null=True,
        blank=True,
        validators=validators.birth_range("Gestation at birth", 22, 44, "weeks"),
    )
    gestational_age_days = models.PositiveSmallIntegerField(
        "gestation at birth (days)",
        null=True,
        blank=True,
        validators=validators.birth_range("The days of gestation", 0, 6, "days"),
    )
    birth_weight_grams = models.PositiveIntegerField(
        "birth weight (g)",
        null=True,
        blank=True,
        validators=validators.birth_range("Birth weight", 300, 6500, "g"),
    )
    growth_reference = models.CharField(
        max_length=20,
        choices=GrowthReference.choices,
        default=GrowthReference.UK_WHO,
        help_text="The growth charts this child's centiles and SDS are read from.",
    )
    guardian_name = models.CharField(max_length=200, blank=True)
    guardian_relationship = models.CharField(
        max_length=20, choices=GuardianRelationship.choices, blank=True
    )
    guardian_phone = PhoneNumberField(max_length=20, blank=True)
    guardian_email = models.EmailField(blank=True)
    address_line1 = models.CharField("address line 1", max_length=200, blank=True)
    address_line2 = models.CharField("address line 2", max_length=200, blank=True)
    city = models.CharField(max_length=100, blank=True)
    postcode = models.CharField(max_length=16, blank=True)
    status = models.CharField(
        max_length=10, choices=PatientStatus.choices, default=PatientStatus.ACTIVE
    )
    date_of_death = models.DateField(
        null=True, blank=True, validators=[validators.date_not_in_future]
    )

    # History is read by patient id: no indexes on what nobody searches it by.
    history = change_history(no_db_index=["mrn", "created_by"])

    class Meta:
        ordering = ["family_name", "given_name", "pk"]
        permissions = [("view_all_patients", "Can open every chart, in any care team")]
        # Each index is paid for by every row an import writes: only what a list,
        # a search or a check reads by. (The guardian's phone had one while a shared
        # phone flagged siblings; the duplicate check now starts from the date of
        # birth.)
        indexes = [
            models.Index(fields=["family_name", "given_name"], name="patient_name_idx"),
            models.Index(fields=["date_of_birth"], name="patient_dob_idx"),
            GinIndex(
                fields=["family_name"],
                opclasses=["gin_trgm_ops"],
                name="patient_family_trgm_idx",
            ),
            GinIndex(
                fields=["given_name"],
                opclasses=["gin_trgm_ops"],
                name="patient_given_trgm_idx",
            ),
            GinIndex(
                fields=["preferred_name"],
                opclasses=["gin_trgm_ops"],
                name="patient_preferred_trgm_idx",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.mrn} {self.family_name.upper()}, {self.given_name}"

    def clean(self) -> None:
        errors = {}
        # Names are read back and searched: no invisible characters (a
        # right-to-left override would show another name than the one stored).
        for name in NAME_FIELDS:
            if HIDDEN.search(getattr(self, name, "") or ""):
                errors[name] = E_HIDDEN_CHARACTERS
        if self.status == PatientStatus.DECEASED and not self.date_of_death:
            errors["date_of_death"] = validators.E_DEATH_DATE_REQUIRED
        if self.status != PatientStatus.DECEASED and self.date_of_death:
            errors["date_of_death"] = validators.E_DEATH_DATE_UNEXPECTED
        try:
            validators.date_not_before_birth(self.date_of_death, self.date_of_birth)
        except ValidationError as error:
            errors.setdefault("date_of_death", error.messages[0])
        if self.gestational_age_days is not None and self.gestational_age_weeks is None:
            errors["gestational_age_days"] = validators.E_GESTATION_DAYS_WITHOUT_WEEKS
        if self.growth_reference == GrowthReference.TURNER and self.sex != Sex.FEMALE:
            errors["growth_reference"] = E_TURNER_FEMALE_ONLY
        if errors:
            raise ValidationError(errors)


class Instrument(models.TextChoices):
    PRECHTL_GMA = "prechtl_gma", "Prechtl General Movements"
    HINE = "hine", "HINE"
    BAYLEY4 = "bayley4", "Bayley-4"
    ASQ3 = "asq3", "ASQ-3"
    MCHAT_RF = "mchat_rf", "M-CHAT-R/F"
    GRIFFITHS3 = "griffiths3", "Griffiths III"
    OTHER = "other", "Other"


class Outcome(models.TextChoices):
    TYPICAL = "typical", "Typical"
    BORDERLINE = "borderline", "Borderline / monitor"
    ATYPICAL = "atypical", "Atypical"
    NOT_CLASSIFIABLE = "not_classifiable", "Not classifiable"


class Assessment(VersionedModel):
    patient = models.ForeignKey(
        Patient, on_delete=models.CASCADE, related_name="assessments"
    )
    instrument = models.CharField(max_length=20, choices=Instrument.choices)
    performed_on = models.DateField(validators=[validators.date_not_in_future])
    assessor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    chronological_age_days = models.IntegerField(editable=False, null=True)
    corrected_age_days = models.IntegerField(editable=False, null=True)
    total_score = models.DecimalField(
        max_digits=6, decimal_places=1, null=True, blank=True
    )
    outcome = models.CharField(max_length=20, choices=Outcome.choices, blank=True)
    findings = BoundedTextField(blank=True)
    recommendations = BoundedTextField(blank=True)
    status = models.CharField(
        max_length=5, choices=RecordStatus.choices, default=RecordStatus.DRAFT
    )

    history = change_history(no_db_index=["created_by"])

    class Meta:
        ordering = ["-performed_on", "-pk"]
        # The list's order, walked backwards: its first page at a million charts
        # reads a page's worth of rows, not every assessment sorted.
        indexes = [
            models.Index(fields=["performed_on", "id"], name="assessment_date_idx")
        ]
        constraints = [
            # The key of an assessment in spreadsheets: patient, instrument, date.
            models.UniqueConstraint(
                fields=["patient", "instrument", "performed_on"],
                name="assessment_patient_instrument_date_key",
            )
        ]

    def __str__(self) -> str:
        when = f" on {show_date(self.performed_on)}" if self.performed_on else ""
        return f"{self.get_instrument_display()}{when}"

    def compute_ages(self) -> None:
        """Fill the stored ages from the patient's birth details and the date."""
        patient, on = self.patient, self.performed_on
        if not (patient and on and patient.date_of_birth):
            return
        self.chronological_age_days = ages.age_in_days(patient.date_of_birth, on)
        self.corrected_age_days = ages.corrected_age_in_days(
            born=patient.date_of_birth,
            on=on,
            gestation_weeks=patient.gestational_age_weeks,
            gestation_days=patient.gestational_age_days,
        )

    @property
    def chronological_age(self) -> str:
        return ages.age_text_from_days(self.chronological_age_days)

    @property
    def corrected_age(self) -> str:
        return ages.age_text_from_days(self.corrected_age_days)

    def clean(self) -> None:
        errors = {}
        if self.patient_id and self.performed_on:
            try:
                validators.date_within_life(self.performed_on, self.patient)
            except ValidationError as error:
                errors["performed_on"] = error.messages[0]
        try:
            validators.score_validate(
                instrument=self.instrument,
                score=self.total_score,
                label=self.get_instrument_display(),
            )
        except ValidationError as error:
            errors["total_score"] = error.messages[0]
        # Final means signed off with an outcome, whichever way it got there
        # (finalised, or amended since).
        if self.status == RecordStatus.FINAL and not self.outcome:
            errors["outcome"] = validators.E_FINAL_NEEDS_OUTCOME
        if errors:
            raise ValidationError(errors)


class MediaKind(models.TextChoices):
    VIDEO = "video", "Video"
    IMAGE = "image", "Image"
    DOCUMENT = "document", "Document"


def media_object_key(instance: "MediaFile", filename: str) -> str:
    """A generated key: never the file's name, the patient's name or MRN."""
    suffix = PurePosixPath(filename).suffix.lower()
    return f"media/{uuid.uuid4().hex}{suffix}"


class MediaFile(models.Model):
    patient = models.ForeignKey(
        Patient, on_delete=models.CASCADE, related_name="media_files"
    )
    assessment = models.ForeignKey(
        Assessment,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="media_files",
    )
    kind = models.CharField(max_length=10, choices=MediaKind.choices, editable=False)
    file = models.FileField(upload_to=media_object_key, max_length=255)
    original_name = models.CharField(max_length=200, editable=False)
    content_type = models.CharField(max_length=50, editable=False)
    size_bytes = models.BigIntegerField(editable=False)
    sha256 = models.CharField("SHA-256", max_length=64, editable=False)
    description = models.CharField(max_length=500, blank=True)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        editable=False,
        related_name="+",
    )
    uploaded_at = models.DateTimeField(auto_now_add=True)

    history = change_history()

    class Meta:
        ordering = ["-uploaded_at", "-pk"]
        verbose_name = "media file"
        # The list's order, walked backwards (as assessments').
        indexes = [
            models.Index(fields=["uploaded_at", "id"], name="media_uploaded_idx")
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()}: {self.original_name}"

    def clean(self) -> None:
        if self.assessment_id and self.assessment.patient_id != self.patient_id:
            raise ValidationError({"assessment": validators.E_ASSESSMENT_PATIENT})


# --- access to charts ----------------------------------------------------------------


class PatientUserObjectPermission(UserObjectPermissionBase):
    """django-guardian's per-user grants on a patient, with a real foreign key."""

    content_object = models.ForeignKey(Patient, on_delete=models.CASCADE)

    class Meta(UserObjectPermissionBase.Meta):
        verbose_name = "chart opened to one user"
        verbose_name_plural = "charts opened to one user"


class PatientGroupObjectPermission(GroupObjectPermissionBase):
    """A care team's grant on a patient: how a chart belongs to a team. Made and
    removed only by services; its history says who could open a chart when."""

    content_object = models.ForeignKey(
        Patient, on_delete=models.CASCADE, related_name="team_permissions"
    )

    history = change_history()

    class Meta(GroupObjectPermissionBase.Meta):
        # As audit events and pages name it (an event's summary, the audit list).
        verbose_name = "chart's care team"
        verbose_name_plural = "charts' care teams"


class BreakGlassGrant(models.Model):
    """Emergency access by one clinician to one chart outside their care teams."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    patient = models.ForeignKey(
        Patient, on_delete=models.CASCADE, related_name="break_glass_grants"
    )
    reason = BoundedTextField(max_length=1000)
    granted_at = models.DateTimeField(db_index=True)
    expires_at = models.DateTimeField(db_index=True)
    acknowledged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    acknowledged_at = models.DateTimeField(null=True, blank=True)
    # The reviewer's words, optional ("confirmed with the ED rota").
    review_note = BoundedTextField(max_length=1000, blank=True)

    class Meta:
        ordering = ["-granted_at", "-pk"]
        verbose_name = "emergency access"
        verbose_name_plural = "emergency access"
        permissions = [
            ("acknowledge_breakglassgrant", "Can acknowledge emergency access")
        ]
        indexes = [
            models.Index(
                fields=["user", "patient", "expires_at"], name="break_glass_live_idx"
            )
        ]

    def __str__(self) -> str:
        return f"Emergency access #{self.pk}"


class BreakGlassUse(models.Model):
    """Each opening of a chart (or one of its records or files) under a grant."""

    grant = models.ForeignKey(
        BreakGlassGrant, on_delete=models.CASCADE, related_name="uses"
    )
    at = models.DateTimeField(auto_now_add=True)
    action = models.CharField(max_length=50)

    class Meta:
        ordering = ["-at", "-pk"]


# Pairs of charts marked "not the same child" (in their own module).
from records.patients.pairs import NotSameChild  # noqa: E402,F401
