"""A general paediatric visit: history, examination, vitals, diagnoses and plan."""

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.core.exceptions import ValidationError
from django.db import models

from records.clinical_records import validators as rules
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
    diagnoses = ArrayField(
        models.CharField(max_length=8),
        default=list,
        blank=True,
        help_text="ICD-10 codes, for example F84.0, R62.0.",
    )
    assessment_and_plan = BoundedTextField(blank=True)
    follow_up_date = models.DateField(null=True, blank=True)
    status = models.CharField(
        max_length=5, choices=RecordStatus.choices, default=RecordStatus.DRAFT
    )

    history = change_history(no_db_index=["created_by"])

    class Meta:
        ordering = ["-visit_date", "-pk"]
        verbose_name = "visit record"
        constraints = [
            # The key of a visit in spreadsheets: patient, date and type.
            models.UniqueConstraint(
                fields=["patient", "visit_date", "visit_type"],
                name="visit_patient_date_type_key",
            )
        ]

    def __str__(self) -> str:
        when = f" on {self.visit_date:%Y-%m-%d}" if self.visit_date else ""
        return f"{self.get_visit_type_display()} visit{when}"

    def compute_bmi(self) -> None:
        self.bmi = rules.bmi(self.weight_kg, self.height_cm)

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
        if errors:
            raise ValidationError(errors)
