"""``python -m aebook``: see ``aebook.cli``."""

import sys

from .cli import main

sys.exit(main())
