"""Reading HTML forms: typed values, per-field errors, and what the user typed kept for a re-render.

A view reads its fields through a :class:`Form`, which records an error message per field; when any
field is wrong the view renders the same template again with ``form.values`` (what was typed) and
``form.errors`` (shown next to each field by the ``field`` macro in ``macros/forms.html``). Errors
from a domain service (``DomainError`` with ``details.field``) are put on the matching field with
:meth:`Form.add_domain_error`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from zhongcao.errors import DomainError
from zhongcao.web import i18n


def error_message(t: Callable[..., str], exc: DomainError) -> str:
    """A service's refusal in the page language: ``err.<code>`` from the catalog when there is one
    (services speak English), else the service's own message."""
    key = f"err.{exc.code}"
    return t(key) if i18n.has_message(key) else exc.message


class Form:
    def __init__(
        self, data: Mapping[str, Any], t: Callable[..., str], tn: Callable[..., str] | None = None
    ) -> None:
        """``t`` is a page's (or console's) bound ``t``; plurals come from ``tn``, by default the same
        owner's ``tn``."""
        self.data = data
        self.t = t
        self.tn: Callable[..., str] = tn or t.__self__.tn  # type: ignore[attr-defined]
        self.values: dict[str, Any] = {}
        self.errors: dict[str, str] = {}
        self.message: str | None = None  # an error about the whole form

    @property
    def ok(self) -> bool:
        return not self.errors and self.message is None

    def error(self, name: str, message: str) -> None:
        self.errors.setdefault(name, message)

    def text(self, name: str, *, required: bool = False, max_length: int | None = None) -> str:
        raw = self.data.get(name)
        value = raw.strip() if isinstance(raw, str) else ""
        self.values[name] = value
        if required and not value:
            self.error(name, self.t("form.required"))
        elif max_length is not None and len(value) > max_length:
            self.error(name, self.tn("form.too_long", "form.too_long.plural", max_length))
        return value

    def integer(
        self, name: str, *, required: bool = False, minimum: int | None = None, maximum: int | None = None
    ) -> int | None:
        raw = self.text(name, required=required)
        if not raw:
            return None
        try:
            value = int(raw)
        except ValueError:
            self.error(name, self.t("form.invalid_number"))
            return None
        if (minimum is not None and value < minimum) or (maximum is not None and value > maximum):
            self.error(name, self.t("form.invalid_number"))
            return None
        return value

    def choice(
        self, name: str, allowed: set[str] | list[str], *, required: bool = True, message: str | None = None
    ) -> str | None:
        value = self.text(name)
        if value in allowed:
            return value
        if value or required:
            self.error(name, message or self.t("form.required"))
        return None

    def choices(self, name: str, allowed: set[str] | list[str]) -> list[str]:
        getter = getattr(self.data, "getlist", None)
        raw = getter(name) if getter else ([self.data[name]] if name in self.data else [])
        picked = [v for v in raw if isinstance(v, str) and v in allowed]
        self.values[name] = picked
        return picked

    def add_domain_error(self, exc: DomainError, fields: Mapping[str, str] | None = None) -> None:
        """Show a service's refusal next to its field (``fields`` maps service field names to form
        names), else above the form."""
        field = str(exc.details.get("field") or "")
        name = (fields or {}).get(field, field)
        message = error_message(self.t, exc)
        if name and name in self.values:
            self.error(name, message)
        else:
            self.message = message
