"""Fixtures shared by the suite: S3 (moto's server), production settings, users,
the access tests' world (access/ and security/), data managers (imports and exports,
records/imports/ and security/), the audit table emptied after threads (records/audit/
and faults/). Plain helpers are in tests/helpers.py."""

from dataclasses import dataclass
from datetime import timedelta

import boto3
import botocore.session
import pytest
import requests
from axes.models import AccessAttempt, AccessFailureLog, AccessLog
from django.conf import settings as django_settings
from django.contrib.auth.models import Group
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client, override_settings
from django.utils import timezone
from moto.server import ThreadedMotoServer

from records.audit.models import AuditEvent
from records.common.models import ScheduledRun
from records.imports import services as import_services
from records.imports.models import ExportJob
from records.patients import services
from records.patients.models import BreakGlassGrant
from records.users import roles
from records.users.models import LoginEvent, User
from tests import factories
from tests.helpers import (
    PNG,
    PRODUCTION_ENV_FILE,
    TEST_BUCKET,
    TEST_PASSWORD,
    load_settings,
    read_env_file,
    triggers_disabled,
)
from tests.support.flush import FastFlush
from tests.support.passwords import cheap_hashers


@pytest.fixture(scope="session", autouse=True)
def audit_table_flushable():
    """Transactional tests end with one TRUNCATE of every table; the audit table
    refuses TRUNCATE while it holds rows (it is append-only), so only for that
    statement, in tests, its guard is switched off."""
    from django.db.backends.postgresql.operations import DatabaseOperations

    original = DatabaseOperations.sql_flush
    table = "audit_auditevent"

    def sql_flush(self, style, tables, **kwargs):
        statements = original(self, style, tables, **kwargs)
        if table not in tables:
            return statements
        return [
            f'ALTER TABLE "{table}" DISABLE TRIGGER USER',
            *statements,
            f'ALTER TABLE "{table}" ENABLE TRIGGER USER',
        ]

    DatabaseOperations.sql_flush = sql_flush
    yield
    DatabaseOperations.sql_flush = original


@pytest.fixture(scope="session", autouse=True)
def transactional_teardown_fast():
    """Transactional tests end with DELETEs of the rows they wrote instead of
    Django's flush (TRUNCATE of every table, then post_migrate): the database ends
    the same, about a second sooner (tests/support/flush.py)."""
    from django.test import TransactionTestCase

    original = TransactionTestCase._fixture_teardown
    flush = FastFlush(original)

    def _fixture_teardown(testcase):
        flush.teardown(testcase)

    TransactionTestCase._fixture_teardown = _fixture_teardown
    yield flush
    TransactionTestCase._fixture_teardown = original


@pytest.fixture(scope="session", autouse=True)
def password_hashing_cheap():
    """The configured hashers with test-sized costs (tests/support/passwords.py):
    a user made or signed in costs a millisecond, not a third of a second."""
    hashers = cheap_hashers(django_settings.PASSWORD_HASHERS)
    with override_settings(PASSWORD_HASHERS=hashers):
        yield


def second_factor_pass(client: Client, user: User) -> None:
    """Mark a signed-in test client's session as having passed the second factor,
    with an authenticator app of the user's (made, confirmed, if they have none),
    as the sign-in's second step does (django_otp.login)."""
    from django_otp import DEVICE_ID_SESSION_KEY
    from django_otp.plugins.otp_totp.models import TOTPDevice

    device = TOTPDevice.objects.filter(user=user, confirmed=True).first()
    if device is None:
        device = TOTPDevice.objects.create(user=user, name="Test app", confirmed=True)
    session = client.session
    session[DEVICE_ID_SESSION_KEY] = device.persistent_id
    session.save()


@pytest.fixture(autouse=True)
def test_logins_pass_the_second_factor(monkeypatch):
    """Every test client's force_login() and login() sign in with both factors
    (tests.helpers.password_only_login for the password alone); the second step is
    tested through its pages in tests/records/users/test_mfa*.py."""
    original = Client._login

    def _login(self, user, backend=None):
        original(self, user, backend)
        if not getattr(self, "password_only", False):
            second_factor_pass(self, user)

    monkeypatch.setattr(Client, "_login", _login)


@pytest.fixture(scope="session")
def production_env() -> dict[str, str]:
    return read_env_file(PRODUCTION_ENV_FILE)


@pytest.fixture(scope="session")
def production_settings(production_env) -> dict:
    return load_settings(production_env)


@pytest.fixture(scope="session", autouse=True)
def botocore_models_parsed_once():
    """Every test's storage (settings.STORAGES changes per test) makes a new boto3
    session, and each session parsed botocore's JSON service models anew (~0.2 s
    a test that stores a file): the sessions of the run share one loader."""
    original = botocore.session.create_loader
    loaders = {}

    def create_loader(search_path_string=None):
        if search_path_string not in loaders:
            loaders[search_path_string] = original(search_path_string)
        loader = loaders[search_path_string]
        # boto3 appends its own data path to the loader of each new session.
        loader.search_paths[:] = dict.fromkeys(loader.search_paths)
        return loader

    botocore.session.create_loader = create_loader
    yield
    botocore.session.create_loader = original


@pytest.fixture(scope="session")
def s3_endpoint():
    """A real S3 HTTP endpoint (moto's server) on a free loopback port."""
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


@pytest.fixture
def s3_storage(s3_endpoint, settings):
    """Point default_storage at an empty private bucket on the S3 endpoint."""
    requests.post(f"{s3_endpoint}/moto-api/reset", timeout=10)
    options = {
        "bucket_name": TEST_BUCKET,
        "endpoint_url": s3_endpoint,
        "region_name": "us-east-1",
        "access_key": "testing",
        "secret_key": "testing",
        "default_acl": None,
        "querystring_auth": True,
        "querystring_expire": 300,
        "file_overwrite": False,
        "signature_version": "s3v4",
        "addressing_style": "path",
    }
    boto3.client(
        "s3",
        endpoint_url=s3_endpoint,
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    ).create_bucket(Bucket=TEST_BUCKET)
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {
            "BACKEND": "records.patients.storage.MediaStorage",
            "OPTIONS": options,
        },
    }
    return default_storage


@pytest.fixture
def make_user(db):
    def make(username: str = "someone", *, roles=(), **fields) -> User:
        user = User.objects.create_user(
            username=username, password=TEST_PASSWORD, is_staff=True, **fields
        )
        for role in roles:
            user.groups.add(Group.objects.get(name=role))
        return user

    return make


# --- data managers: imports and exports -----------------------------------------------


@pytest.fixture
def data_manager(make_user):
    return make_user("data", roles=[roles.DATA_MANAGER])


@pytest.fixture
def importer(make_user):
    """A data manager who imports (through the services)."""
    return make_user("importer", roles=[roles.DATA_MANAGER])


@pytest.fixture
def import_client(importer, s3_storage):
    """A data manager's client on the import pages, files on S3."""
    client = Client()
    client.force_login(importer)
    return client


# --- the audit table ------------------------------------------------------------------


@pytest.fixture
def audit_emptied_after(transactional_db):
    """Committed events stop the teardown's flush (a TRUNCATE): remove them first.

    Torn down before `transactional_db`, whose flush then finds the table empty.
    """
    yield
    with triggers_disabled():
        AuditEvent.objects.all().delete()


# --- the access tests' world (access/ and security/) ----------------------------------


@dataclass
class World:
    users: dict
    patient: object
    assessment: object
    visit: object
    media: object
    team: object
    grant: object
    event: object
    attempt: object
    access_log: object
    failure_log: object
    role: object
    import_job: object
    export_job: object
    audit_event: object
    scheduled_run: object = None


def _user(username, *role_names, **fields):
    user = User.objects.create_user(
        username=username,
        password=TEST_PASSWORD,
        is_staff=True,
        **fields,
    )
    for name in role_names:
        user.groups.add(Group.objects.get(name=name))
    return user


@pytest.fixture
def world(db, s3_storage) -> World:
    """Every persona (tests.helpers.PERSONAS) and a chart with one of each kind of
    object: what the access and security tests probe."""
    users = {
        "superuser": _user("root", is_superuser=True),
        "administrator": _user("chief", roles.ADMINISTRATOR),
        "clinician_in_team": _user("inside", roles.CLINICIAN),
        "clinician_outside": _user("outside", roles.CLINICIAN),
        "clinician_break_glass": _user("glass", roles.CLINICIAN),
        "clinician_expired_glass": _user("expired", roles.CLINICIAN),
        "data_manager": _user("data", roles.DATA_MANAGER),
        "auditor": _user("audit", roles.AUDITOR),
    }
    inside = users["clinician_in_team"]
    team = factories.team("Neonatal follow-up", inside)
    factories.team("Autism assessment", users["clinician_outside"])
    patient = factories.patient(acting_user=inside, care_teams=[team])
    assessment = factories.assessment(acting_user=inside, patient=patient)
    visit = factories.visit(acting_user=inside, patient=patient)
    media = services.media_upload(
        acting_user=inside,
        patient=patient,
        assessment=assessment,
        uploaded_file=SimpleUploadedFile("gm.png", PNG),
    )
    grant = services.break_glass_open(
        acting_user=users["clinician_break_glass"],
        mrn=patient.mrn,
        reason="Seizure in the emergency department",
    )
    old = services.break_glass_open(
        acting_user=users["clinician_expired_glass"],
        mrn=patient.mrn,
        reason="Seizure in the emergency department",
    )
    BreakGlassGrant.objects.filter(pk=old.pk).update(
        granted_at=timezone.now() - timedelta(hours=9),
        expires_at=timezone.now() - timedelta(hours=5),
    )
    event = LoginEvent.objects.create(kind="failure", username="someone")
    attempt = AccessAttempt.objects.create(
        username="someone", ip_address="192.0.2.1", failures_since_start=1
    )
    access_log = AccessLog.objects.create(username="someone", ip_address="192.0.2.1")
    failure_log = AccessFailureLog.objects.create(
        username="someone", ip_address="192.0.2.1"
    )
    manager = users["data_manager"]
    import_job = import_services.import_validate(
        acting_user=manager,
        entity="patients",
        file_name="bad.csv",
        data=b"mrn,given_name,family_name,date_of_birth,sex\nx,A,B,2025-01-01,m\n",
        reason="Quarterly upload",
    )
    export_job = ExportJob.objects.create(
        user=manager, entity="patients", file_format="csv"
    )
    return World(
        users=users,
        patient=patient,
        assessment=assessment,
        visit=visit,
        media=media,
        team=team,
        grant=grant,
        event=event,
        attempt=attempt,
        access_log=access_log,
        failure_log=failure_log,
        role=Group.objects.get(name=roles.AUDITOR),
        import_job=import_job,
        export_job=export_job,
        audit_event=AuditEvent.objects.order_by("-id").first(),
        scheduled_run=ScheduledRun.objects.create(
            task="verify_audit", started_at=timezone.now(), succeeded=False
        ),
    )
