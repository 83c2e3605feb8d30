"""Faults on demand: 429s, server errors, hangs, dropped connections and outages."""

from __future__ import annotations

import itertools
from dataclasses import asdict, dataclass
from typing import Any, Literal

FaultKind = Literal["retry_after", "error", "hang", "disconnect"]

_ALIASES: dict[str, tuple[FaultKind, int | None]] = {
    "retry_after": ("retry_after", None),
    "429": ("retry_after", None),
    "flood": ("retry_after", None),
    "error": ("error", None),
    "500": ("error", 500),
    "502": ("error", 502),
    "503": ("error", 503),
    "server_error": ("error", 500),
    "hang": ("hang", None),
    "timeout": ("hang", None),
    "disconnect": ("disconnect", None),
}

_DEFAULT_DESCRIPTIONS = {
    500: "Internal Server Error",
    502: "Bad Gateway",
    503: "Service Unavailable",
    504: "Gateway Timeout",
}


@dataclass
class Fault:
    id: int
    kind: FaultKind
    method: str | None = None
    chat_id: int | None = None
    remaining: int = 1
    retry_after: int = 1
    status: int = 500
    description: str | None = None
    seconds: float = 0.0
    deliver: bool = False
    """For ``hang``: perform the call first, then hang (the effect happens, the reply is late)."""

    def matches(self, method: str, chat_id: int | None) -> bool:
        if self.remaining <= 0:
            return False
        if self.method is not None and self.method.lower() != method.lower():
            return False
        return self.chat_id is None or self.chat_id == chat_id

    @property
    def error_description(self) -> str:
        if self.description:
            return self.description
        if self.status in _DEFAULT_DESCRIPTIONS:
            return _DEFAULT_DESCRIPTIONS[self.status]
        return "Internal Server Error" if self.status >= 500 else f"Error {self.status}"

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


class FaultInjector:
    def __init__(self) -> None:
        self._faults: list[Fault] = []
        self._ids = itertools.count(1)
        self.outage: str | None = None
        """When set, every Bot API call answers 502 with this description."""

    def add(
        self,
        kind: str,
        *,
        method: str | None = None,
        chat_id: int | None = None,
        count: int = 1,
        retry_after: int = 1,
        status: int | None = None,
        description: str | None = None,
        seconds: float = 0.0,
        deliver: bool = False,
    ) -> Fault:
        if kind not in _ALIASES:
            raise ValueError(f"unknown fault kind {kind!r}; use one of {sorted(_ALIASES)}")
        if count < 1:
            raise ValueError("count must be at least 1")
        resolved, default_status = _ALIASES[kind]
        fault = Fault(
            id=next(self._ids),
            kind=resolved,
            method=method,
            chat_id=chat_id,
            remaining=count,
            retry_after=max(1, int(retry_after)),
            status=int(status or default_status or 500),
            description=description,
            seconds=float(seconds),
            deliver=deliver,
        )
        self._faults.append(fault)
        return fault

    def take(self, method: str, chat_id: int | None) -> Fault | None:
        for fault in self._faults:
            if fault.matches(method, chat_id):
                fault.remaining -= 1
                if fault.remaining <= 0:
                    self._faults.remove(fault)
                return fault
        return None

    def list(self) -> list[Fault]:
        return list(self._faults)

    def remove(self, fault_id: int) -> bool:
        before = len(self._faults)
        self._faults = [f for f in self._faults if f.id != fault_id]
        return len(self._faults) != before

    def clear(self) -> None:
        self._faults.clear()
        self.outage = None
