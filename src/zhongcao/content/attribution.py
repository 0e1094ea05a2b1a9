"""Where a purchase came from, checked and completed on the server (FACT attribution).

A client says which channel, content, account and campaign led to an item; the server checks it
against the content graph and derives the rest:

* ``content_id`` must exist and carry an anchor to the item's product;
* ``account_id`` defaults to the content's publisher, and when both are given they must agree;
* an ``account_id`` given without content must exist (a creator's showcase, a shop page).

The FACT carrier follows from the account, the item's shop and whether a campaign applied:

====================================================  =======
the account is one of the item's shop's own accounts  F
a creator account with ``is_top_kol``                 T
any other creator account                             A
no (qualifying) account, a campaign applied           C
otherwise                                             F
====================================================  =======
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from zhongcao.commerce.models import Carrier, Channel
from zhongcao.content.models import Account, AccountKind, Content, ContentAnchor
from zhongcao.errors import InvalidInput


@dataclass(frozen=True)
class ResolvedAttribution:
    channel: Channel
    content_id: int | None
    account_id: int | None
    account_kind: AccountKind | None
    account_shop_id: int | None
    is_top_kol: bool

    @property
    def creator_account_id(self) -> int | None:
        """The account a commission may go to: only creator accounts earn commission."""
        return self.account_id if self.account_kind is AccountKind.creator else None


NO_ATTRIBUTION = ResolvedAttribution(
    channel=Channel.other,
    content_id=None,
    account_id=None,
    account_kind=None,
    account_shop_id=None,
    is_top_kol=False,
)


def _invalid(message: str, field: str) -> InvalidInput:
    return InvalidInput(message, code="invalid_attribution", field=field)


def resolve(
    db: Session,
    *,
    product_id: int,
    channel: Channel,
    content_id: int | None,
    account_id: int | None,
    field_prefix: str = "attribution",
) -> ResolvedAttribution:
    """Check a client's attribution for ``product_id`` and fill in the account from the content."""
    if content_id is not None:
        # One round trip for the content, its publisher and whether it anchors the product (checkout
        # asks this for every line).
        anchored = (
            select(ContentAnchor.id)
            .where(ContentAnchor.content_id == Content.id, ContentAnchor.product_id == product_id)
            .exists()
        )
        row = db.execute(
            select(Content.account_id, Account.kind, Account.shop_id, Account.is_top_kol, anchored)
            .join(Account, Account.id == Content.account_id)
            .where(Content.id == content_id)
        ).one_or_none()
        if row is None:
            raise _invalid("no such content", f"{field_prefix}.content_id")
        publisher, kind, shop_id, top_kol, is_anchored = row
        if not is_anchored:
            raise _invalid("the content does not anchor this product", f"{field_prefix}.content_id")
        if account_id is not None and account_id != publisher:
            raise _invalid("the account is not the content's publisher", f"{field_prefix}.account_id")
        return ResolvedAttribution(
            channel=channel,
            content_id=content_id,
            account_id=publisher,
            account_kind=kind,
            account_shop_id=shop_id,
            is_top_kol=bool(top_kol),
        )
    account = None
    if account_id is not None:
        account = db.get(Account, account_id)
        if account is None:
            raise _invalid("no such account", f"{field_prefix}.account_id")
    return ResolvedAttribution(
        channel=channel,
        content_id=None,
        account_id=account_id,
        account_kind=account.kind if account else None,
        account_shop_id=account.shop_id if account else None,
        is_top_kol=bool(account and account.is_top_kol),
    )


def carrier_for(attribution: ResolvedAttribution, *, shop_id: int, campaign_applied: bool) -> Carrier:
    """The FACT carrier of an item of ``shop_id`` with this attribution (see the module table)."""
    if attribution.account_kind is AccountKind.shop and attribution.account_shop_id == shop_id:
        return Carrier.field
    if attribution.account_kind is AccountKind.creator:
        return Carrier.top_kol if attribution.is_top_kol else Carrier.alliance
    if campaign_applied:
        return Carrier.campaign
    return Carrier.field
