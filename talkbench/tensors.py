"""Small tensor helpers shared by the generator's losses and the detector attacks."""

from __future__ import annotations

import functools
import operator
from typing import Iterable

import torch


def tensor_sum(terms: Iterable[torch.Tensor]) -> torch.Tensor:
    """t1 + t2 + ... of at least one tensor (``sum()`` would start from the int 0)."""
    return functools.reduce(operator.add, terms)
