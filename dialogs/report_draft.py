"""The answers of one report while it is being written: a typed record kept in dialog state."""

from __future__ import annotations

import uuid
from dataclasses import asdict, dataclass, fields
from datetime import datetime
from typing import Any

from domain.categories import Categories
from domain.i18n import Texts
from domain.oslo_time import format_moment

# In the order the dialog asks; "unit" covers both the unit choice and the typed unit name.
FIELDS = (
    "description",
    "harm",
    "category",
    "severity",
    "unit",
    "location",
    "when",
    "immediate_action",
    "suggested_measure",
)


@dataclass
class ReportDraft:
    submission_key: str
    description: str | None = None
    harm: str | None = None
    category: str | None = None
    severity: str | None = None
    unit_id: int | None = None
    unit_name: str | None = None
    location: str | None = None
    occurred_at: str | None = None  # ISO 8601 with offset; dialog state is JSON
    occurred_time_known: bool = True
    immediate_action: str | None = None  # "" means: asked, nothing to add
    suggested_measure: str | None = None
    editing: str | None = None  # the field being changed from the summary
    anonymous: bool = False  # the reporter asked not to be named to the leader

    @classmethod
    def new(cls) -> ReportDraft:
        return cls(submission_key=uuid.uuid4().hex)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ReportDraft:
        # Ignore keys a newer or older version of the bot may have left in stored state.
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in known})

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def answered(self, field: str) -> bool:
        if field == "unit":
            return self.unit_name is not None
        if field == "when":
            return self.occurred_at is not None
        return getattr(self, field) is not None

    def needs(self, field: str) -> bool:
        """True when the dialog should ask for this field now."""
        return self.editing == field or not self.answered(field)

    def record(self, field: str, value: Any) -> None:
        if field == "when":
            self.occurred_at = value["at"]
            self.occurred_time_known = value["time_known"]
        elif field == "unit":
            self.unit_id, self.unit_name = value["id"], value["name"]
        else:
            setattr(self, field, value)
        if self.editing == field:
            self.editing = None

    def forget_unit(self) -> None:
        self.unit_id = self.unit_name = None

    @property
    def occurred(self) -> datetime:
        assert self.occurred_at is not None
        return datetime.fromisoformat(self.occurred_at)

    def display(self, field: str, texts: Texts, categories: Categories) -> str:
        """The answer as the reporter reads it in the summary."""
        not_given = texts("field.not_given")
        if field == "category":
            return categories.label(self.category, texts.language) if self.category else not_given
        if field in ("harm", "severity"):
            code = getattr(self, field)
            return texts(f"{field}.{code}") if code else not_given
        if field == "unit":
            return self.unit_name or not_given
        if field == "when":
            if self.occurred_at is None:
                return not_given
            return format_moment(self.occurred, texts, time_known=self.occurred_time_known)
        value = getattr(self, field)
        return value if value else not_given

    def summary(self, texts: Texts, categories: Categories) -> str:
        lines = [texts("report.summary_title")]
        lines += [
            f"**{texts(f'field.{f}')}:** {self.display(f, texts, categories)}" for f in FIELDS
        ]
        return "\n\n".join(lines)
