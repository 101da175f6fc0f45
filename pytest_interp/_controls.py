"""The control run: a claim that held runs once more on its cell's untrained control (vacuous if it holds there too)."""

from __future__ import annotations

from typing import Any

import pytest


def run_on_control(item: pytest.Item) -> dict[str, Any]:
    """Run a claim that held once more on the cell's untrained control: if it holds there too, it is vacuous."""
    from ._errors import NotApplicable
    from ._measure import recording

    funcargs = getattr(item, "funcargs", {})
    trained = funcargs.get("model")
    if trained is None:
        return {"outcome": "n/a", "reason": "no model argument", "measurements": []}
    funcargs["model"] = trained.control()
    outcome, reason = "holds", None
    with recording() as sink:
        try:
            item.runtest()
        except AssertionError as exc:
            outcome, reason = "breaks", (str(exc).strip().splitlines() or ["AssertionError"])[0][:500]
        except NotApplicable as exc:
            outcome, reason = "n/a", str(exc)
        except pytest.skip.Exception as exc:
            outcome, reason = "n/a", str(exc.msg)
        except Exception as exc:  # the control's failure must not change the claim's own outcome
            first = (str(exc).strip().splitlines() or [""])[0]
            outcome, reason = "error", f"{type(exc).__name__}: {first}"[:500]
        finally:
            funcargs["model"] = trained
    return {"outcome": outcome, "reason": reason, "measurements": [m.to_dict() for m in sink]}
