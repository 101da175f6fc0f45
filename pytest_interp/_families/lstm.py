"""`lstm`: a stack of LSTM layers (Hochreiter & Schmidhuber 1997), forget-gate bias +1.

Size rule, inputs, outputs and sites: see `recurrent.py` (hidden state per step per layer).
"""

from __future__ import annotations

from .recurrent import RecurrentFamily


class LSTM(RecurrentFamily):
    name = "lstm"
    kind = "lstm"
