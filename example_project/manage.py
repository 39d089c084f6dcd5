#!/usr/bin/env python
"""The example site's manage.py. Run it from anywhere: ``python example_project/manage.py runserver``."""
import os
import sys
from pathlib import Path


def main() -> None:
    # The repository root, so that ``example_project`` imports, and ``django_pushmfa`` too when it is not
    # installed; appended, so an installed django_pushmfa (./runtests' wheel runs) is the one that runs.
    sys.path.append(str(Path(__file__).resolve().parent.parent))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "example_project.settings")
    from django.core.management import execute_from_command_line

    execute_from_command_line(sys.argv)


if __name__ == "__main__":
    main()
