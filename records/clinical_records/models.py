"""A general paediatric visit: history, examination, vitals, diagnoses and plan."""

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.db import models

from records.clinical_records import growth
from records.clinical_records import validators as rules
from records.common.display import show_date
from records.common.models import BoundedTextField, change_history
from records.patients import validators as patient_rules
from records.patients.models import Patient, RecordStatus, VersionedModel


class VisitType(models.TextChoices):
    NEW = "new", "New"
    FOLLOW_UP = "follow_up", "Follow-up"
    URGENT = "urgent", "Urgent"
    TELEHEALTH = "telehealth", "Telehealth"


def _vital(field: str, model_field: type[models.Field], **kwargs) -> models.Field:
    label, _, _, unit = rules.VITAL_RANGES[field]
    return model_field(
        f"{label} ({unit})",
        null=True,
        blank=True,
        validators=[rules.VitalRangeValidator(field)],
        **kwargs,
    )


def _sds(label: str) -> models.DecimalField:
    return models.DecimalField(
        f"{label} SDS", max_digits=6, decimal_places=3, null=True, editable=False
    )


def _centile(label: str) -> models.DecimalField:
    return models.DecimalField(
        f"{label} centile", max_digits=4, decimal_places=1, null=True, editable=False
    )


# A growth figure's measurement field, for the form's errors.
GROWTH_ERROR_FIELDS = {
    "weight": "weight_kg",
    "height": "height_cm",
    "head_circumference": "head_circumference_cm",
    "bmi": None,
}


class ClinicalRecord(VersionedModel):
    patient = models.ForeignKey(
        Patient, on_delete=models.CASCADE, related_name="clinical_records"
    )
    visit_date = models.DateField(validators=[patient_rules.date_not_in_future])
    visit_type = models.CharField(max_length=12, choices=VisitType.choices)
    clinician = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    chief_complaint = models.CharField(max_length=500, blank=True)
    # Named so as not to collide with django-simple-history's `history` manager.
    clinical_history = BoundedTextField("history", blank=True)
    examination = BoundedTextField(blank=True)
    weight_kg = _vital("weight_kg", models.DecimalField, max_digits=6, decimal_places=3)
    height_cm = _vital("height_cm", models.DecimalField, max_digits=4, decimal_places=1)
    head_circumference_cm = _vital(
        "head_circumference_cm", models.DecimalField, max_digits=3, decimal_places=1
    )
    temperature_c = _vital(
        "temperature_c", models.DecimalField, max_digits=3, decimal_places=1
    )
    heart_rate = _vital("heart_rate", models.PositiveSmallIntegerField)
    respiratory_rate = _vital("respiratory_rate", models.PositiveSmallIntegerField)
    spo2 = _vital("spo2", models.PositiveSmallIntegerField)
    bmi = models.DecimalField(
        "BMI (kg/m²)", max_digits=4, decimal_places=1, null=True, editable=False
    )
    # Corrected SDS and centiles against the patient's growth reference (rcpchgrowth),
    # kept by compute_growth; null without the measurement or a reference for it.
    weight_sds = _sds("weight")
    weight_centile = _centile("weight")
    height_sds = _sds("height or length")
    height_centile = _centile("height or length")
    head_circumference_sds = _sds("head circumference")
    head_circumference_centile = _centile("head circumference")
    bmi_sds = _sds("BMI")
    bmi_centile = _centile("BMI")
    diagnoses = ArrayField(
        models.CharField(max_length=8),
        default=list,
        blank=True,
        help_text="ICD-10 codes, for example F84.0, R62.0.",
    )
    assessment_and_plan = BoundedTextField(blank=True)
    follow_up_date = models.DateField("follow-up date", null=True, blank=True)
    status = models.CharField(
        max_length=5, choices=RecordStatus.choices, default=RecordStatus.DRAFT
    )

    history = change_history(no_db_index=["created_by"])

    class Meta:
        ordering = ["-visit_date", "-pk"]
        verbose_name = "visit record"
        # As the sidebar and the chart's tab name them.
        verbose_name_plural = "visits"
        constraints = [
            # The key of a visit in spreadsheets: patient, date and type.
            models.UniqueConstraint(
                fields=["patient", "visit_date", "visit_type"],
                name="visit_patient_date_type_key",
            )
        ]
        # The clinician's worklist (records/charts/worklist.py), each partial to
        # the rows it serves: drafts, follow-ups, measured visits by date.
        indexes = [
            # The visit list's order, walked backwards (as assessments').
            models.Index(fields=["visit_date", "id"], name="visit_date_idx"),
            models.Index(
                fields=["clinician", "visit_date", "id"],
                condition=models.Q(status="draft"),
                name="visit_draft_clinician_idx",
            ),
            models.Index(
                fields=["clinician", "follow_up_date"],
                condition=models.Q(follow_up_date__isnull=False),
                name="visit_follow_up_idx",
            ),
            models.Index(
                fields=["visit_date", "id"],
                condition=models.Q(weight_sds__isnull=False)
                | models.Q(head_circumference_sds__isnull=False),
                name="visit_measured_date_idx",
            ),
        ]

    def __str__(self) -> str:
        when = f" on {show_date(self.visit_date)}" if self.visit_date else ""
        return f"{self.get_visit_type_display()} visit{when}"

    def compute_bmi(self) -> None:
        self.bmi = rules.bmi(self.weight_kg, self.height_cm)

    def growth_input(self) -> "growth.GrowthInput | None":
        patient = self.patient if self.patient_id else None
        if patient is None or not (patient.date_of_birth and self.visit_date):
            return None
        return growth.GrowthInput(
            sex=patient.sex,
            born=patient.date_of_birth,
            on=self.visit_date,
            reference=patient.growth_reference,
            gestation_weeks=patient.gestational_age_weeks,
            gestation_days=patient.gestational_age_days,
        )

    def growth_figures(self) -> dict[str, "growth.Figure"]:
        """Each measurement's figure from rcpchgrowth, as this visit's values are."""
        values = {
            name: getattr(self, f) for name, (f, _, _) in growth.MEASUREMENTS.items()
        }
        return growth.visit_figures(self.growth_input(), values)

    def compute_growth(self) -> list[str]:
        """BMI, then the SDS and centiles stored on the visit; returns the warnings.
        An implausible measurement (see clean) keeps no figure."""
        self.compute_bmi()
        warnings = []
        for name, figure in self.growth_figures().items():
            setattr(self, f"{name}_sds", figure.sds)
            setattr(self, f"{name}_centile", figure.centile)
            if figure.warning and figure.warning not in warnings:
                warnings.append(figure.warning)
        return warnings

    def compute_derived(self) -> None:
        """What a visit's save stores from its other values (BMI, growth figures)."""
        self.compute_growth()

    def growth_errors(self) -> dict[str | None, list[str]]:
        """Measurements rcpchgrowth calls errors (beyond its SDS limits), by field."""
        self.compute_bmi()
        errors: dict[str | None, list[str]] = {}
        for name, figure in self.growth_figures().items():
            if figure.error:
                errors.setdefault(GROWTH_ERROR_FIELDS[name], []).append(figure.error)
        return errors

    @property
    def diagnoses_with_titles(self) -> list[tuple[str, str]]:
        return [(code, rules.icd10_title(code)) for code in self.diagnoses]

    def clean(self) -> None:
        errors = {}
        if self.patient_id and self.visit_date:
            try:
                patient_rules.date_within_life(self.visit_date, self.patient)
            except ValidationError as error:
                errors["visit_date"] = error.messages[0]
        if self.follow_up_date and self.visit_date:
            if self.follow_up_date < self.visit_date:
                errors["follow_up_date"] = rules.E_FOLLOW_UP_BEFORE_VISIT
        try:
            self.diagnoses = rules.diagnoses_clean(self.diagnoses)
        except ValidationError as error:
            errors["diagnoses"] = error.messages
        if "visit_date" not in errors:
            for field, messages in self.growth_errors().items():
                errors.setdefault(field or NON_FIELD_ERRORS, []).extend(messages)
        if errors:
            raise ValidationError(errors)
