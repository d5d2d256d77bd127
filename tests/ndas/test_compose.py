"""The production compose file runs commands that exist."""

import re

import yaml
from django.core.management import get_commands

from tests.conftest import BASE_DIR


def test_every_manage_py_command_in_the_compose_file_exists():
    compose = yaml.safe_load((BASE_DIR / "docker-compose.prod.yml").read_text())
    text = yaml.safe_dump(compose["services"], width=float("inf"))
    named = set(re.findall(r"manage\.py (\w+)", text))
    assert {"expire_imports", "clearsessions", "verify_audit", "migrate"} <= named
    assert named <= set(get_commands())
