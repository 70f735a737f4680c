"""Exports of personal data that leave the portal, announced to whoever records them.

Every feature that hands personal data out of the system (a download, a data return)
calls ``export_announce``; the transfer log (app ``transfers``, a layer above the register)
registers its recorder here at start-up, so that the register never imports it (C6:
"every export … is recorded in the transfer log and the processing log").
"""

from collections.abc import Callable, Sequence
from typing import Any

_recorders: list[Callable[..., Any]] = []


def export_recorder_register(recorder: Callable[..., Any]) -> None:
    if recorder not in _recorders:
        _recorders.append(recorder)


def export_announce(
    *,
    subject_ids: Sequence[int],
    label: str,
    actor: Any = None,
    request: Any = None,
    category_ids: Sequence[int] | None = None,
) -> None:
    """Call in the transaction of the export, before the data is handed out."""
    for recorder in _recorders:
        recorder(
            subject_ids=subject_ids,
            category_ids=category_ids,
            label=label,
            actor=actor,
            request=request,
        )
