"""The one place that decides which device training runs on."""

from __future__ import annotations

import torch

_ACCEPTED = "None, 'auto', 'cpu', 'cuda', 'cuda:N', 'mps', or a torch.device"


def pick_device(device: str | torch.device | None = None) -> torch.device:
    """Return the training device: CUDA if available, else MPS if present, else CPU.

    Pass ``device`` to force one; an unknown name or an unavailable device raises a
    ValueError that lists the choices.
    """
    if device is None or device == "auto":
        if torch.cuda.is_available():
            return torch.device("cuda")
        mps = getattr(torch.backends, "mps", None)
        if mps is not None and mps.is_available():
            return torch.device("mps")
        return torch.device("cpu")
    try:
        chosen = torch.device(device)
    except (RuntimeError, TypeError) as err:
        raise ValueError(f"unknown device {device!r}; use {_ACCEPTED}.") from err
    if chosen.type == "cuda":
        if not torch.cuda.is_available():
            raise ValueError(
                f"device {device!r} was requested but CUDA is not available here; "
                "use device='cpu' or install the CUDA build of torch."
            )
        if chosen.index is not None and chosen.index >= torch.cuda.device_count():
            raise ValueError(
                f"device {device!r} does not exist: this machine has "
                f"{torch.cuda.device_count()} CUDA device(s)."
            )
    elif chosen.type == "mps":
        mps = getattr(torch.backends, "mps", None)
        if mps is None or not mps.is_available():
            raise ValueError(f"device {device!r} was requested but MPS is not available; use 'cpu'.")
    elif chosen.type != "cpu":
        raise ValueError(f"unsupported device {device!r}; use {_ACCEPTED}.")
    return chosen
