"""This folder's models are tiny: each test runs on one torch thread (see tests/torch_threads.py)."""

from torch_threads import one_torch_thread  # noqa: F401  (an autouse fixture)
