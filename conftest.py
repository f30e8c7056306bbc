"""Root pytest configuration: kernels started by nbval inherit the environment of the stored outputs.

``aebook.reproducible`` sets it, as ``make execute`` does when it makes the stored outputs:
``AEBOOK_PROGRESS=0``, so ``aebook.fit`` draws no bar under test, and on x86-64 the CPU code path
that makes the numbers the same on Intel and AMD processors.
"""

from aebook.reproducible import notebook_environment

notebook_environment()  # inherited by every kernel nbval starts
