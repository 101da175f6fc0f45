"""`attn-only-1l`: `attn-only` with a single block, the model that cannot form induction heads.

An induction head composes two heads across layers (Olsson et al. 2022): a 1-layer
attention-only model can copy tokens but cannot look up "the token after the earlier
occurrence of mine", so it is the breaking side of the induction-head claims.
Size rule: 1 block at every size, heads as in `transformer`; d is the width nearest the
target. Sites, inputs and outputs as in `attn-only`.
"""

from __future__ import annotations

from typing import Any, Sequence

from .._tasks.base import InputSpec
from .attn_only import AttnOnly
from .transformer import attention_candidates


class AttnOnly1L(AttnOnly):
    name = "attn-only-1l"

    def candidates(self, target: int, spec: InputSpec) -> Sequence[dict[str, Any]]:
        return attention_candidates(1, mlp_ratio=0)
