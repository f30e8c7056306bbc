"""The command line: ``python -m aebook diagnose DATA.npy|DATA.csv --loss bce|mse [--encoding-dim K]``.

``diagnose`` prints, for the reader's own data, the floors under their loss and a one-line reading
of each (see ``aebook.diagnose.diagnose``). Bad input (a missing or unreadable file, an unknown
extension, non-numeric data, NaN, an array that is not 2-D, BCE on values outside [0, 1]) ends
with exit status 2 and one line on stderr, never a traceback.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from .diagnose import diagnose, load_array

PROG = "python -m aebook"


def _build_parser() -> argparse.ArgumentParser:
    """Return the argument parser of ``python -m aebook``."""
    parser = argparse.ArgumentParser(
        prog=PROG,
        description="Tools from the book 'Why doesn't my autoencoder reach zero loss?'.",
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    diag = commands.add_parser(
        "diagnose",
        help="print the lowest loss an autoencoder can reach on your data, and what it means",
        description=(
            "Print, for the data in FILE: its shape and value range, whether BCE applies (values in "
            "[0, 1]? binary?), the BCE entropy floor, the PCA floor for a few encoding dims (or the one "
            "given), and a one-line reading of each."
        ),
    )
    diag.add_argument("file", metavar="FILE", help="a .npy file (numpy.save) or a .csv file of numbers, "
                      "rows = samples, columns = features; one header row is allowed in a .csv")
    diag.add_argument("--loss", required=True, choices=("bce", "mse"), help="the loss your model is trained with")
    diag.add_argument("--encoding-dim", type=int, metavar="K", action="append", dest="encoding_dims",
                      help="width of your code layer (repeat for several); default: a few between 1 and d - 1")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line with ``argv`` (default ``sys.argv[1:]``); return the exit status."""
    parser = _build_parser()
    args = parser.parse_args(argv)
    try:
        data = load_array(args.file)
        report = diagnose(data, loss=args.loss, encoding_dims=args.encoding_dims).report()
    except ValueError as err:
        print(f"{PROG} {args.command}: error: {err}", file=sys.stderr)
        return 2
    print(report)
    return 0
