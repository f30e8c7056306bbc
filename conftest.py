"""Root pytest configuration: keep progress bars out of the notebook outputs that nbval compares.

Kernels started by nbval inherit this environment, so ``aebook.fit`` draws no bar under test,
exactly as when ``make execute`` produced the stored outputs.
"""

import os

os.environ["AEBOOK_PROGRESS"] = "0"
