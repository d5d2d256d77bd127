#!/usr/bin/env python
"""Django's command-line utility for administrative tasks."""

import os
import sys


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "ndas.settings")
    # The development server serves requests; every other command is long work
    # (the database ceilings of ndas/settings.py follow).
    serving = sys.argv[1:2] == ["runserver"]
    os.environ.setdefault("NDAS_WORK", "web" if serving else "command")
    from django.core.management import execute_from_command_line

    execute_from_command_line(sys.argv)


if __name__ == "__main__":
    main()
