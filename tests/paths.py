"""Where the suite finds the repository's files, and what a subprocess it starts puts on its path."""
from pathlib import Path

# The checkout: README.md, docs/, example_project/, .ci/.
REPO = Path(__file__).resolve().parents[1]
# The sys.path entry ``tests`` was imported from: the checkout in a source run; in the runs against the
# installed package (./runtests) .ci/installed/, which links tests/, example_project/ and bench/ only, so a
# subprocess given this as PYTHONPATH imports the same (installed) django_pushmfa as the suite.
IMPORT_ROOT = Path(__file__).absolute().parents[1]
