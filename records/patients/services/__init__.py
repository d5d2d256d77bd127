"""Writes to patient charts: keyword-only functions that take the acting user."""

from records.patients.services.access import (  # noqa: F401
    break_glass_acknowledge,
    break_glass_open,
    break_glass_use_record,
    care_team_delete,
    care_teams_assignable_by,
    patient_assign_care_team,
    patient_care_teams,
    patient_set_care_teams,
    patient_unassign_care_team,
)
from records.patients.services.assessments import (  # noqa: F401
    assessment_amend,
    assessment_create,
    assessment_delete,
    assessment_finalize,
    assessment_finalize_check,
    assessment_register,
    assessment_update,
)
from records.patients.services.media import (  # noqa: F401
    media_delete,
    media_download_name,
    media_download_url,
    media_file_check,
    media_upload,
)
from records.patients.services.pairs import (  # noqa: F401
    patient_pair_mark_check,
    patient_pair_mark_distinct,
)
from records.patients.services.patients import (  # noqa: F401
    patient_archive,
    patient_create,
    patient_delete,
    patient_register,
    patient_update,
)
