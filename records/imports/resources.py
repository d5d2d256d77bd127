"""django-import-export's Resource API over the NDAS import and export services.

Code that speaks django-import-export (a script, a notebook, a future admin button)
gets exactly what the admin pages and the command lines get: `import_data` runs
`import_file` (every rule, all or nothing, one history row per change, the job log
and the audit trail) and `export` runs `export_csv` (only the rows the user may see,
formulas escaped, the export recorded). Nothing here validates or writes itself.

    result = PatientResource(user=alice, reason="October referrals").import_data(
        tablib.Dataset().load(text, format="csv"), dry_run=True
    )
    result.totals, result.invalid_rows, result.import_job
"""

from collections import defaultdict
from typing import ClassVar

import tablib
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from import_export import resources
from import_export.results import Result, RowResult

from records.imports.exports import export_csv
from records.imports.models import Entity, ImportMode
from records.imports.services import import_file


class ServiceResource(resources.Resource):
    """One entity's import and export, through the services, as `user`."""

    entity: ClassVar[str]

    def __init__(
        self,
        *,
        user,
        reason: str = "",
        mode: str = ImportMode.CREATE_OR_UPDATE,
        blank_keeps_value: bool = True,
        care_team=None,
        no_care_team: bool = False,
    ):
        super().__init__()
        self.user = user
        self.reason = reason
        self.mode = mode
        self.blank_keeps_value = blank_keeps_value
        self.care_team = care_team
        # New patients in no care team need this explicit choice (teams.py).
        self.no_care_team = no_care_team

    def import_data(self, dataset, dry_run=False, raise_errors=False, **kwargs):
        """Validate the dataset and, unless a dry run, commit it all or nothing.

        The ImportJob is `result.import_job`; invalid rows carry the same messages
        as the admin's report (row numbers count the header as row 1).
        """
        job = import_file(
            acting_user=self.user,
            entity=self.entity,
            file_name=f"{self.entity}.csv",
            data=dataset.export("csv").encode(),
            reason=self.reason,
            mode=self.mode,
            blank_keeps_value=self.blank_keeps_value,
            care_team=self.care_team,
            no_care_team=self.no_care_team,
            dry_run=dry_run,
        )
        result = Result()
        result.import_job = job
        result.add_dataset_headers(dataset.headers)
        result.total_rows = job.rows
        result.totals.update(
            {
                RowResult.IMPORT_TYPE_NEW: job.new,
                RowResult.IMPORT_TYPE_UPDATE: job.changed,
                RowResult.IMPORT_TYPE_SKIP: job.unchanged,
                RowResult.IMPORT_TYPE_INVALID: job.invalid,
            }
        )
        by_row: dict[int, dict[str, list[str]]] = defaultdict(lambda: defaultdict(list))
        for error in job.errors:
            field = error["column"] or NON_FIELD_ERRORS
            by_row[error["row"]][field].append(error["message"])
        for number, messages in by_row.items():
            result.append_invalid_row(number, {}, ValidationError(dict(messages)))
        if raise_errors and result.invalid_rows:
            raise result.invalid_rows[0].error
        return result

    def export(self, queryset=None, **kwargs) -> tablib.Dataset:
        """The rows `user` may see (of `queryset`, when given), as an export."""
        data = b"".join(
            export_csv(
                user=self.user,
                entity=self.entity,
                columns=kwargs.get("export_fields"),
                queryset=queryset,
            )
        )
        return tablib.Dataset().load(data.decode("utf-8-sig"), format="csv")


class PatientResource(ServiceResource):
    entity = Entity.PATIENTS


class AssessmentResource(ServiceResource):
    entity = Entity.ASSESSMENTS


class ClinicalRecordResource(ServiceResource):
    entity = Entity.CLINICAL_RECORDS
