"""Two checks the root ``conftest.py`` adds to ``pytest --nbval``, on top of nbval's own.

1. **Numbers by significant digits.** nbval compares text outputs (stdout, stderr, ``text/plain``,
   ``text/html``, the glue payload ``application/papermill.record/text/plain``, ...) after the
   regex replacements of ``nbval_sanitize.cfg``. A regex cannot count significant digits, so after
   those replacements :func:`round_numbers` replaces every decimal number (one with a decimal
   point or an exponent: ``0.5062``, ``7.6e-04``, ``1e-05``) by its value rounded to
   :data:`SIGNIFICANT_DIGITS` significant digits, on the stored and on the fresh side alike.
   Integers (``938 steps``, epoch and dead-unit counts) are left alone and so compared exactly.
   :func:`use_significant_digits` installs this on one nbval cell item.

2. **Figures.** nbval skips ``image/png`` unless ``--nbdime`` is given. :func:`compare_figures`
   compares the PNGs a cell produced in the nbval run (``item.test_outputs``) with the stored ones
   (``item.cell.outputs``) by the RMS difference of their pixels, 0-255 scale
   (``matplotlib.testing.compare.compare_images``), with :data:`FIGURE_RMS_TOLERANCE`. A different
   number of figures, a different image size or an RMS above the tolerance is a mismatch; the
   expected, actual and difference images of a mismatch are kept in a folder for a look.

The chapters are not executed a second time: both checks use what nbval already has.
"""

from __future__ import annotations

import base64
import io
import re
import shutil
import tempfile
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Context, Decimal, InvalidOperation
from pathlib import Path

#: Significant digits kept of every decimal number in a compared text output.
#:
#: The chapters glue and quote their numbers rounded to 4 significant digits and print tables
#: with 1 to 8: of the 669 decimal numbers in the stored outputs when this was chosen, 657 have
#: at most 5 significant digits and are therefore compared in full (1.1e-04 and 1.9e-04 differ,
#: as they should); the other 12 (``16.635532``, ``5.19936``, ``0.00494701``, ...) are compared
#: to 5.
#: That one digit of slack on the longest printouts costs nothing on the pinned x86-64 code path,
#: where the chapters reproduce every printed digit (the full nbval run passes at any N), and
#: keeps a printout with 8 digits from failing on a one-rounding difference of a long run
#: elsewhere. The old sanitizer kept 4 *decimals*: 0.00011 and 0.00019 both became 0.0001.
SIGNIFICANT_DIGITS = 5

#: Largest RMS pixel difference (0-255 scale, RGB) between a stored and a fresh figure.
#:
#: Noise, measured: all 23 figures of the six chapters re-executed by nbval under the pinned
#: environment are pixel-identical to the stored ones (RMS 0.000; each run prints the largest RMS
#: it saw). Real changes, measured on figures like the chapters' (log-scale loss curves, legend,
#: grid; ``tests/test_nbval_compare.py`` plants the same changes) at 600x380, 1100x400 and
#: 1080x680 pixels: one character of a legend label changed gives RMS 2.0 / 1.6 / 1.2, one
#: character of the title 2.2 / 1.7 / 1.3, one curve moved up by 1 % 1.5 / 1.6 / 2.1 (by 5 %:
#: 6.9 on 600x380), while a curve moved by 0.1 %, less than a pixel, gives 0.15 to 0.22.
#: 0.5 is a factor of 2.4 below the smallest visible change measured and above sub-pixel
#: anti-aliasing differences, which is all a few-ulp difference in the plotted values can make.
FIGURE_RMS_TOLERANCE = 0.5

PNG = "image/png"

# A decimal number: digits with a decimal point (``0.5``, ``.5``) or an exponent (``1e-05``),
# not glued to a word or another number on its left (``float32``, ``v2.1``, the ``13`` of
# ``2.13.0``), and not running on into more digits on its right (``2.13.0``, an IP address).
# A sign is not part of the match: rounding is symmetric, so ``-0.123456`` keeps its ``-``.
_NUMBER = re.compile(
    r"(?<![\w.])"
    r"(?:\d*\.\d+(?:[eE][-+]?\d+)?|\d+[eE][-+]?\d+)"
    r"(?!\.?\d)"
)


def round_significant(number: str, digits: int = SIGNIFICANT_DIGITS) -> str:
    """Return the decimal number ``number`` (text) rounded to ``digits`` significant digits.

    The rounding is exact decimal arithmetic on the printed digits, half away from zero (as
    ``f"{x:.5g}"`` would print the printed value), not binary-float rounding. Rounding rather than
    truncating: two values within half a unit of the last kept digit of the same value compare
    equal, whichever side of it they fall on (truncation would separate 0.1234599 from
    0.1234600, a difference of 1e-7). Either way a value can sit on a boundary; no scheme of
    kept digits avoids that.

    The result has one canonical form, so that two printings of the same value agree: trailing
    zeros dropped and, like Python's ``repr`` of a float, positional from 1e-4 to below 1e16
    (``0.00076``, ``99.0``) and scientific outside (``1.2346e-05``). Text that is not a finite
    number is returned unchanged.
    """
    try:
        value = Context(prec=digits, rounding=ROUND_HALF_UP).plus(Decimal(number)).normalize()
    except InvalidOperation:
        return number
    if not value.is_finite():
        return number
    if value.is_zero():
        return "0.0"
    exponent = value.adjusted()
    if -4 <= exponent < 16:
        text = format(value, "f")
        return text if "." in text else text + ".0"
    mantissa = format(value.scaleb(-exponent), "f")
    return f"{mantissa}e{exponent:+03d}"


def round_numbers(text: str, digits: int = SIGNIFICANT_DIGITS) -> str:
    """Round every decimal number in ``text`` to ``digits`` significant digits; leave integers."""
    return _NUMBER.sub(lambda m: round_significant(m.group(), digits), text)


def use_significant_digits(cell, digits: int = SIGNIFICANT_DIGITS) -> None:
    """Make the nbval cell item ``cell`` compare decimal numbers to ``digits`` significant digits.

    nbval's ``IPyNbCell.compare_outputs`` passes every stored and every fresh value it compares
    through ``self.sanitize`` (the regex replacements of ``--nbval-sanitize-with``). This wraps
    that bound method on this one item: the regex replacements run first (tqdm rates, memory
    addresses), then :func:`round_numbers`. Non-text values pass through unchanged.
    """
    regex_sanitize: Callable[[object], object] = cell.sanitize

    def sanitize(value: object) -> object:
        value = regex_sanitize(value)
        return round_numbers(value, digits) if isinstance(value, str) else value

    cell.sanitize = sanitize


# ----------------------------------------------------------------------------------------- figures
def png_images(outputs: Iterable[Mapping] | None) -> list[bytes]:
    """Return the decoded ``image/png`` payloads of a cell's outputs, in output order."""
    images = []
    for output in outputs or ():
        payload = output.get("data", {}).get(PNG)
        if payload is not None:
            if isinstance(payload, list):  # a notebook written with split lines
                payload = "".join(payload)
            images.append(base64.b64decode(payload))
    return images


def png_size(png: bytes) -> tuple[int, int]:
    """Return (width, height) in pixels of a PNG image."""
    from PIL import Image

    with Image.open(io.BytesIO(png)) as image:
        return image.size


@dataclass
class FigureComparison:
    """The outcome of comparing one cell's figures; ``problems`` is empty when they match."""

    rms: list[float] = field(default_factory=list)  # one per figure pair that could be compared
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def compare_figures(
    stored: Iterable[Mapping] | None,
    fresh: Iterable[Mapping] | None,
    keep_dir: Path | None = None,
    tol: float = FIGURE_RMS_TOLERANCE,
) -> FigureComparison:
    """Compare the PNG figures of a cell's stored outputs with those of its fresh outputs.

    The i-th stored figure is compared with the i-th fresh one. A mismatch is a different number
    of figures, a different size in pixels, or an RMS difference above ``tol``. For each figure
    over the tolerance the stored, fresh and difference images are copied into ``keep_dir`` (when
    given) as ``figure<i>-expected.png``, ``figure<i>-actual.png`` and
    ``figure<i>-actual-failed-diff.png``, and the problem names them.
    """
    from matplotlib.testing.compare import compare_images

    expected_pngs, actual_pngs = png_images(stored), png_images(fresh)
    result = FigureComparison()
    if len(expected_pngs) != len(actual_pngs):
        result.problems.append(
            f"the stored outputs have {len(expected_pngs)} figure(s), the fresh run made {len(actual_pngs)}"
        )
    pairs = list(zip(expected_pngs, actual_pngs, strict=False))
    if not pairs:
        return result
    with tempfile.TemporaryDirectory(prefix="nbval-figures-") as tmp:
        for i, (expected_png, actual_png) in enumerate(pairs, start=1):
            name = f"figure {i} of {len(expected_pngs)}"
            if expected_png == actual_png:
                result.rms.append(0.0)
                continue
            expected_size, actual_size = png_size(expected_png), png_size(actual_png)
            if expected_size != actual_size:
                result.problems.append(
                    f"{name}: image size differs: stored {expected_size[0]}x{expected_size[1]} px, "
                    f"fresh {actual_size[0]}x{actual_size[1]} px"
                )
                continue
            expected_path, actual_path = Path(tmp, f"figure{i}-expected.png"), Path(tmp, f"figure{i}-actual.png")
            expected_path.write_bytes(expected_png)
            actual_path.write_bytes(actual_png)
            # tol=0 returns the RMS of every pair that is not pixel-identical, so that the run can
            # report the largest RMS it saw; the tolerance is applied here.
            diff = compare_images(str(expected_path), str(actual_path), tol=0, in_decorator=True)
            rms = 0.0 if diff is None else float(diff["rms"])
            result.rms.append(rms)
            if rms <= tol:
                continue
            problem = f"{name} differs from the stored one: RMS {rms:.3f} > tolerance {tol} (0-255 scale)"
            if keep_dir is not None:
                keep_dir.mkdir(parents=True, exist_ok=True)
                kept = [
                    shutil.copy(path, keep_dir / Path(path).name) for path in (expected_path, actual_path, diff["diff"])
                ]
                problem += "\n    stored: {}\n    fresh:  {}\n    diff:   {}".format(*kept)
            result.problems.append(problem)
    return result
