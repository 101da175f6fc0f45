"""The five outcomes of one (claim, cell), and the order reports list them in."""

from __future__ import annotations

HOLDS, BREAKS, NA, UNTRAINED, ERROR = "holds", "breaks", "n/a", "untrained", "error"
OUTCOMES: tuple[str, ...] = (HOLDS, BREAKS, NA, UNTRAINED, ERROR)
#: Skip reasons start with these, so pytest's own summary says why.
NA_PREFIX, UNTRAINED_PREFIX = "n/a: ", "untrained: "
