"""The shopper's address book (``/account/addresses``) and the province → city → district picker that
it and checkout share.

The picker works without JavaScript: three ``<select>``s whose lists the server fills from what was
chosen so far, and an "update the lists" button (``pick``) that posts the form back to refill them;
``js/address-picker.js`` hides that button and refills the lists from ``GET /api/divisions`` as the
shopper chooses. Saving goes through :mod:`zhongcao.users.addresses` (the same checks as the API).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from fastapi import APIRouter
from fastapi.responses import Response
from pydantic import ValidationError

from zhongcao.errors import DomainError
from zhongcao.users import addresses as address_service
from zhongcao.users import divisions
from zhongcao.users.schemas import AddressIn
from zhongcao.web.context import FormData, ShopperPage
from zhongcao.web.forms import Form
from zhongcao.web.shopper.common import IdPath

router = APIRouter()

PATH = "/account/addresses"
PICKER_FIELDS = ("province_code", "city_code", "district_code")
ADDRESS_BOOK_FIELDS = ("recipient", "phone", *PICKER_FIELDS, "detail")


@dataclass(frozen=True)
class Picker:
    """The three lists as the form shows them (cities of the chosen province, districts of the chosen
    city) and the chosen codes."""

    provinces: list[divisions.Division]
    cities: list[divisions.Division]
    districts: list[divisions.Division]
    chosen: dict[str, str]


def picker(values: dict[str, Any]) -> Picker:
    province = str(values.get("province_code") or "")
    city = str(values.get("city_code") or "")
    cities = divisions.children(province) if divisions.get("province", province) else []
    districts = divisions.children(city) if any(c.code == city for c in cities) else []
    return Picker(
        divisions.provinces(), cities, districts, {n: str(values.get(n) or "") for n in PICKER_FIELDS}
    )


def read_picker(form: Form) -> tuple[str, str, str]:
    """The three codes from a posted form, each required, with a message on the first bad level."""
    codes = tuple(form.text(name, required=True, max_length=12) for name in PICKER_FIELDS)
    if all(codes):
        try:
            divisions.check(*codes)
        except DomainError as exc:
            form.error(str(exc.details["field"]), form.t("address.division_mismatch"))
    return codes  # type: ignore[return-value]


def _render(
    page: Any, form: Form | None, *, editing: Any = None, status_code: int = 200, values: Any = None
) -> Response:
    if values is None:
        values = form.values if form is not None else {}
    return page.render(
        "shopper/addresses.html",
        status_code=status_code,
        addresses=[address_service.named(a) for a in address_service.list_addresses(page.db, page.user.id)],
        form=form,
        values=values,
        picker=picker(values),
        editing=editing,
        max_addresses=address_service.MAX_ADDRESSES,
    )


def _values_of(row: Any) -> dict[str, Any]:
    return {name: getattr(row, name) for name in ADDRESS_BOOK_FIELDS} | {"is_default": row.is_default}


@router.get(PATH)
def address_book(page: ShopperPage) -> Response:
    return _render(page, None)


@router.get(PATH + "/{address_id}")
def edit_address_page(page: ShopperPage, address_id: IdPath) -> Response:
    assert page.user is not None
    row = address_service.get_address(page.db, page.user.id, address_id)
    return _render(page, None, editing=row, values=_values_of(row))


def _save(page: Any, data: Any, editing: Any) -> Response:
    form = Form(data, page.t)
    if data.get("pick"):  # no JavaScript: refill the lists from what is chosen so far
        for name in ADDRESS_BOOK_FIELDS:
            form.text(name)
        form.values["is_default"] = data.get("is_default") == "on"
        return _render(page, None, editing=editing, values=form.values)
    recipient = form.text("recipient", required=True, max_length=40)
    phone = form.text("phone", required=True, max_length=20)
    province, city, district = read_picker(form)
    detail = form.text("detail", required=True, max_length=200)
    is_default = data.get("is_default") == "on"
    form.values["is_default"] = is_default
    body = None
    if form.ok:
        try:
            body = AddressIn(
                recipient=recipient,
                phone=phone,
                province_code=province,
                city_code=city,
                district_code=district,
                detail=detail,
                is_default=is_default,
            )
        except ValidationError as exc:
            for err in exc.errors():
                name = str(err["loc"][0]) if err.get("loc") else ""
                form.error(name, page.t("form.invalid_phone") if name == "phone" else page.t("form.invalid"))
    if body is not None:
        try:
            if editing is None:
                address_service.create_address(page.db, page.user.id, body)
            else:
                address_service.update_address(page.db, page.user.id, editing.id, body)
            return page.redirect(PATH, flash="address.saved")
        except DomainError as exc:
            page.db.rollback()
            form.add_domain_error(exc)
    return _render(page, form, editing=editing, status_code=422)


@router.post(PATH)
def add_address(page: ShopperPage, data: FormData) -> Response:
    return _save(page, data, None)


@router.post(PATH + "/{address_id}")
def change_address(page: ShopperPage, address_id: IdPath, data: FormData) -> Response:
    assert page.user is not None
    action = data.get("action")
    if action == "delete":
        address_service.delete_address(page.db, page.user.id, address_id)
        return page.redirect(PATH, flash="address.deleted")
    if action == "default":
        address_service.set_default(page.db, page.user.id, address_id)
        return page.redirect(PATH, flash="address.default_set")
    row = address_service.get_address(page.db, page.user.id, address_id)
    return _save(page, data, row)
