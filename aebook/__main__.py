"""``python -m aebook``: the command line of ``aebook.diagnose``."""

import sys

from .diagnose import main

sys.exit(main())
