"""A plan's steps (raise, wait, obtain, supply, verify, blocker), their cost, and the sentence
each is shown with, in English and Chinese."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from recommender.advice.levers import fmt, label, unit_of
from recommender.profile import CERTIFICATION_LABELS


@dataclass(frozen=True)
class Step:
    """One change or fact a plan needs. ``target`` is the new value, an ISO date or a title."""

    kind: str                    # raise | wait | obtain | supply | verify | blocker
    criterion: str
    field: str | None = None
    current: Any = None
    target: Any = None
    via: str | None = None
    reason_en: str = ""
    reason_zh: str = ""
    clause: str = ""
    cost: float = 0.0

    @property
    def key(self) -> tuple[str, str]:
        return (self.kind, self.field or self.criterion if self.kind != "verify" else self.criterion)


Plan = list[Step]


def blocked(plan: Plan) -> bool:
    return any(s.kind == "blocker" for s in plan)


def cost(plan: Plan) -> float:
    return math.inf if blocked(plan) else sum(s.cost for s in plan)


def step_dict(step: Step) -> dict[str, Any]:
    """A step as shown in results, with its sentence in English and Chinese."""
    en, zh = _sentence(step)
    out: dict[str, Any] = {"kind": step.kind, "criterion": step.criterion}
    if step.field is not None:
        out["field"] = step.field
    if step.kind == "raise":
        out.update({"from": step.current, "to": step.target, "by": step.target - step.current})
    elif step.kind == "wait":
        out["until"] = step.via
        if step.field is not None:
            out.update({"from": step.current, "to": step.target})
    elif step.kind == "obtain":
        out.update({"title": step.target, "via": step.via})
    out.update({"text": en, "text_zh": zh, "clause": step.clause})
    return out


def _sentence(step: Step) -> tuple[str, str]:
    name_en, name_zh = label(step.field) if step.field else ("", "")
    if step.kind == "raise":
        unit = unit_of(step.field or "")
        by = step.target - step.current
        if unit == "share":
            return (f"{_cap(name_en)} must rise from {fmt(step.current, unit)} to "
                    f"{fmt(step.target, unit)} {step.reason_en}",
                    f"{name_zh}需由{fmt(step.current, unit)}提高到{fmt(step.target, unit)}，{step.reason_zh}")
        return (f"{_cap(name_en)} must rise by {fmt(by, unit)} (from {fmt(step.current, unit)} to "
                f"{fmt(step.target, unit)}) {step.reason_en}",
                f"{name_zh}需增加{fmt(by, unit)}（由{fmt(step.current, unit)}增至{fmt(step.target, unit)}），"
                f"{step.reason_zh}")
    if step.kind == "wait":
        return (f"Eligible from {step.via} ({step.reason_en})", f"自{step.via}起满足（{step.reason_zh}）")
    if step.kind == "obtain":
        # The policy that grants the title is the step's ``via`` (an id, for programs); the
        # sentence is for people and names the title only.
        title_en, title_zh = CERTIFICATION_LABELS.get(str(step.target), (str(step.target), str(step.target)))
        return (f"Obtain the title {title_en}: {step.reason_en}", f"取得{title_zh}称号：{step.reason_zh}")
    if step.kind == "supply":
        return (f"Tell us your {name_en}: needed for '{step.reason_en}'",
                f"请提供{name_zh}：用于判断“{step.reason_zh}”")
    if step.kind == "verify":
        return (f"Verify yourself: {step.reason_en}", f"请自行核实：{step.reason_zh}")
    return (f"Blocker: {step.reason_en}", f"无法通过调整满足：{step.reason_zh}")


def _cap(text: str) -> str:
    return text[:1].upper() + text[1:]
