"""`gru`: a stack of GRU layers (Cho et al. 2014).

Size rule, inputs, outputs and sites: see `recurrent.py` (hidden state per step per layer).
"""

from __future__ import annotations

from .recurrent import RecurrentFamily


class GRU(RecurrentFamily):
    name = "gru"
    kind = "gru"
