"""Tests of chapter code import the chapter modules that live beside the notebooks, under ``book/``."""

import sys
from pathlib import Path

BOOK = Path(__file__).resolve().parent.parent / "book"
if str(BOOK) not in sys.path:
    sys.path.insert(0, str(BOOK))
