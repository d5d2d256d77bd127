"""Storage that hangs: every S3 call has connect and read timeouts and bounded
retries, a failed upload leaves neither a row nor an object, and the same bytes
uploaded twice are stored once."""

import io
import threading
import time

import pytest
from django.core.files import File
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import DatabaseError, connection
from django.urls import reverse

from records.common.errors import ServiceError
from records.patients import services
from records.patients.models import MediaFile
from records.patients.services import media as media_services
from records.users import roles
from tests import factories
from tests.helpers import (
    BASE_DIR,
    HUNG_S3_MAX_ATTEMPTS,
    HUNG_S3_READ_TIMEOUT,
    admin_form_data,
    load_settings,
)

PNG = (BASE_DIR / "fixtures" / "demo_media" / "sample.png").read_bytes()


def test_every_s3_call_has_timeouts_and_bounded_retries(production_env):
    env = {
        **production_env,
        "S3_CONNECT_TIMEOUT": "2",
        "S3_READ_TIMEOUT": "7",
        "S3_MAX_ATTEMPTS": "3",
    }
    options = load_settings(env)["STORAGES"]["default"]["OPTIONS"]
    config = options["client_config"]
    assert (config.connect_timeout, config.read_timeout) == (2, 7)
    assert config.retries == {"mode": "standard", "max_attempts": 3}
    # Given a client_config, django-storages no longer applies these two itself.
    assert config.signature_version == "s3v4"
    assert config.s3["addressing_style"] in ("path", "auto")


def test_s3_defaults_stay_under_the_worker_timeout(production_env):
    names = load_settings(production_env)
    worst = names["S3_MAX_ATTEMPTS"] * (
        names["S3_CONNECT_TIMEOUT"] + names["S3_READ_TIMEOUT"]
    )
    assert worst < 120  # GUNICORN_TIMEOUT's default; the proxy waits 130 s


# --- uploads ------------------------------------------------------------------------

UPLOAD_SLACK = 3.0  # seconds beyond the hung store's timeouts, on a busy machine


@pytest.fixture
def doctor(make_user):
    return make_user("faultdoc", roles=[roles.CLINICIAN])


@pytest.fixture
def patient(doctor):
    return factories.patient(acting_user=doctor, family_name="Quillfeather")


@pytest.fixture
def exam(doctor, patient):
    return factories.assessment(acting_user=doctor, patient=patient)


def upload(doctor, patient, content: bytes = PNG, name: str = "scan.png", **kwargs):
    return services.media_upload(
        acting_user=doctor,
        patient=patient,
        uploaded_file=File(io.BytesIO(content), name=name),
        **kwargs,
    )


def bucket_keys(storage) -> list[str]:
    return sorted(o.key for o in storage.bucket.objects.all())


@pytest.mark.django_db
def test_upload_to_a_hung_store_fails_in_bounded_time_and_saves_nothing(
    doctor, patient, hung_s3, caplog
):
    started = time.monotonic()
    with pytest.raises(ServiceError) as error:
        upload(doctor, patient)
    took = time.monotonic() - started
    assert error.value.messages == [media_services.E_STORAGE_UNAVAILABLE]
    # At most two calls (does the key exist? then the upload) of one try each.
    assert took < 2 * HUNG_S3_MAX_ATTEMPTS * (1 + HUNG_S3_READ_TIMEOUT) + UPLOAD_SLACK
    assert not MediaFile.objects.exists()
    [record] = [r for r in caplog.records if r.name == media_services.logger.name]
    assert record.key.startswith("media/") and "Quillfeather" not in str(
        record.__dict__
    )


@pytest.mark.django_db
def test_the_same_bytes_twice_for_an_assessment_are_stored_once(
    doctor, patient, exam, s3_storage
):
    first = upload(doctor, patient, assessment=exam)
    again = upload(doctor, patient, name="scan (1).png", assessment=exam)
    assert again.pk == first.pk
    assert MediaFile.objects.count() == 1
    assert bucket_keys(s3_storage) == [first.file.name]


@pytest.mark.django_db
def test_the_same_bytes_for_another_assessment_or_the_chart_are_kept(
    doctor, patient, exam, s3_storage
):
    other = factories.assessment(acting_user=doctor, patient=patient)
    with_exam = upload(doctor, patient, assessment=exam)
    with_other = upload(doctor, patient, assessment=other)
    on_chart = upload(doctor, patient)
    assert upload(doctor, patient).pk == on_chart.pk
    assert len({with_exam.pk, with_other.pk, on_chart.pk}) == 3
    assert len(bucket_keys(s3_storage)) == 3


@pytest.mark.django_db
def test_the_admins_own_object_becomes_the_stored_one(doctor, patient, s3_storage):
    first = upload(doctor, patient)
    mine = MediaFile()
    returned = upload(doctor, patient, instance=mine)
    assert returned is mine and mine.pk == first.pk
    assert mine.file.name == first.file.name and not mine._state.adding


@pytest.mark.django_db
def test_a_failed_insert_removes_the_object_by_its_key(doctor, patient, s3_storage):
    # A real database failure after the object is stored: a trigger refuses the row
    # (created inside the test's transaction, so it is gone afterwards).
    with connection.cursor() as cursor:
        cursor.execute(
            "CREATE FUNCTION pg_temp.refuse() RETURNS trigger LANGUAGE plpgsql "
            "AS $$ BEGIN RAISE EXCEPTION 'refused'; END $$"
        )
        cursor.execute(
            "CREATE TRIGGER refuse BEFORE INSERT ON patients_mediafile "
            "FOR EACH ROW EXECUTE FUNCTION pg_temp.refuse()"
        )
    with pytest.raises(DatabaseError):
        upload(doctor, patient, name="scan.png")
    assert bucket_keys(s3_storage) == []


@pytest.mark.django_db(transaction=True)
def test_two_uploads_of_the_same_bytes_at_once_keep_one(doctor, patient, s3_storage):
    results, failures = [], []

    def one():
        try:
            results.append(upload(doctor, patient).pk)
        except Exception as error:  # pragma: no cover - reported below
            failures.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=one) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert failures == []
    assert len(set(results)) == 1 and MediaFile.objects.count() == 1
    assert bucket_keys(s3_storage) == [MediaFile.objects.get().file.name]


def admin_add(client, patient, content: bytes = PNG):
    page = client.get(reverse("admin:patients_mediafile_add"))
    data = admin_form_data(
        page, patient=patient.pk, file=SimpleUploadedFile("scan.png", content)
    )
    return client.post(reverse("admin:patients_mediafile_add"), data, follow=True)


@pytest.mark.django_db
def test_the_admin_says_the_store_is_not_answering(client, doctor, patient, hung_s3):
    client.force_login(doctor)
    response = admin_add(client, patient)
    assert response.status_code == 200
    messages = [str(m) for m in response.context["messages"]]
    assert messages == [media_services.E_STORAGE_UNAVAILABLE]
    assert not MediaFile.objects.exists()


@pytest.mark.django_db
def test_the_admin_upload_sent_again_shows_the_stored_file(
    client, doctor, patient, s3_storage
):
    client.force_login(doctor)
    admin_add(client, patient)
    response = admin_add(client, patient)
    assert response.status_code == 200
    media = MediaFile.objects.get()
    assert bucket_keys(s3_storage) == [media.file.name]
