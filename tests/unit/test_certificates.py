"""Certificates and gift codes through their services, on SQLite and PostgreSQL: the spending
allocation, rounding, prices, the one-credit rule, claims (the race included) and expiry."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from bot.domain.errors import (
    BalanceCapExceeded,
    GiftCodeInvalid,
    GiftCodeLocked,
    GiftOwnCode,
    GiftUnavailable,
    InvalidAmount,
    PaymentUnmatched,
)
from bot.domain.models import Certificate, ReturnedCharge
from bot.domain.money import Money
from bot.services.cashback import CashbackPolicy, CashbackService
from bot.services.certificates import (
    CertificatePolicy,
    CertificateService,
    ShortOfCertificates,
    allocate,
)
from bot.services.gifts import GiftService
from bot.services.hashing import SecretHasher
from bot.services.ledger import ORDERS
from bot.services.notices import NoticeService, decode
from bot.services.security import Lockout, SecurityService
from tests.unit.ledger_support import LedgerWorld

ALICE, BOB, CAROL = 201, 202, 203
T0 = datetime(2026, 1, 1, tzinfo=UTC)


def usd(minor: int) -> Money:
    return Money(minor, "USD")


def policy(**changes: object) -> CertificatePolicy:
    values: dict[str, object] = {
        "nominals": (usd(500), usd(1000), usd(2000)),
        "minimum": usd(500),
        "maximum": usd(20000),
        "balance_max": usd(200000),
        "stars_per_unit": Decimal(50),
        "cashback_percent": Decimal(1),
        "fiat": False,
        "gift_ttl": timedelta(days=30),
    }
    values.update(changes)
    return CertificatePolicy(**values)  # type: ignore[arg-type]


def certificate(id_: int, remaining: int) -> Certificate:
    return Certificate(id_, ALICE, usd(remaining), usd(remaining), "bought", T0)


# --- pure rules --------------------------------------------------------------------------------


def test_three_certificates_worth_160_minus_147_99_leave_12_01() -> None:
    held = [certificate(3, 5000), certificate(1, 5000), certificate(2, 6000)]
    plan = allocate(held, usd(14799))
    assert plan == [(1, usd(5000)), (2, usd(6000)), (3, usd(3799))]  # oldest (lowest id) first
    left = {c.id: (c.remaining - dict(plan).get(c.id, usd(0))).minor for c in held}
    assert left == {1: 0, 2: 0, 3: 1201}


def test_allocation_takes_nothing_it_does_not_need_and_refuses_a_shortfall() -> None:
    assert allocate([certificate(1, 5000), certificate(2, 100)], usd(5000)) == [(1, usd(5000))]
    assert allocate([certificate(1, 0), certificate(2, 100)], usd(1)) == [(2, usd(1))]
    with pytest.raises(ShortOfCertificates) as short:
        allocate([certificate(1, 500), certificate(2, 499)], usd(1000))
    assert short.value.covered == usd(999)


@pytest.mark.parametrize(
    ("amount", "cashback"),
    [(1005, 10), (50, 1), (49, 0), (150, 2), (14799, 148), (20000, 200)],
)
def test_certificate_cashback_rounds_half_up_to_the_cent(amount: int, cashback: int) -> None:
    assert usd(amount).percent(Decimal(1)) == usd(cashback)


def _service(**changes: object) -> CertificateService:
    world = LedgerWorld("sqlite:///:memory:")
    return CertificateService(world.db, world.ledger, world.clock, policy(**changes))


@pytest.mark.parametrize(
    ("amount", "stars"), [(500, 250), (1250, 625), (1, 1), (101, 51), (20000, 10000)]
)
def test_stars_price_is_rounded_up(amount: int, stars: int) -> None:
    invoice = _service().invoice_for(usd(amount))
    assert (invoice.currency, invoice.amount) == ("XTR", stars)


def test_fiat_price_is_the_amount() -> None:
    invoice = _service(fiat=True).invoice_for(usd(1250))
    assert (invoice.currency, invoice.amount) == ("USD", 1250)


@pytest.mark.parametrize(
    ("text", "reason"),
    [("4.99", "below_min"), ("200.01", "above_max"), ("abc", "format"), ("0", "zero")],
)
def test_custom_amounts_are_checked_against_the_range(text: str, reason: str) -> None:
    with pytest.raises(InvalidAmount) as refused:
        _service().parse_amount(text)
    assert refused.value.reason == reason


# --- services on a database --------------------------------------------------------------------


class World:
    def __init__(self, url: str, **changes: object) -> None:
        self.base = LedgerWorld(url)
        self.security = security = SecurityService(
            self.base.db,
            SecretHasher(b"p" * 32, memory_kib=1024, time_cost=1),
            self.base.clock,
            Lockout(5, timedelta(minutes=15), timedelta(minutes=15)),
        )
        self.certificates = CertificateService(
            self.base.db, self.base.ledger, self.base.clock, policy(**changes)
        )
        self.gifts = GiftService(self.base.db, self.certificates, security, self.base.clock)
        self.cashback = CashbackService(
            self.base.db,
            self.certificates,
            security,
            self.base.clock,
            CashbackPolicy(hold=timedelta(days=14), withdraw_min=usd(500), support_chat_id=-100),
        )

    async def pay(self, user_id: int, minor: int, purpose: str = "self", charge: str = "") -> str:
        purchase = await self.certificates.create_purchase(user_id, usd(minor), purpose)
        charge = charge or f"charge-{purchase.id}"
        invoice = self.certificates.invoice_for(usd(minor))
        await self.certificates.complete_payment(
            user_id, purchase.public_id, invoice.currency, invoice.amount, charge, "p"
        )
        return charge

    async def check(self) -> None:
        assert await self.base.ledger.check_invariants() == []
        assert await self.certificates.drift() == []
        assert await self.cashback.drift() == []


@pytest.fixture
async def world(database_url: str) -> AsyncIterator[World]:
    world = World(database_url)
    await world.base.open(ALICE, BOB, CAROL)
    try:
        yield world
    finally:
        await world.base.close()


async def test_a_charge_is_credited_once_and_never_to_the_wrong_purchase(world: World) -> None:
    charge = await world.pay(ALICE, 2000)
    purchase = (await world.certificates.recent_charges(ALICE))[0]
    again = await world.certificates.complete_payment(
        ALICE, purchase.public_id, "XTR", 1000, charge, "p"
    )
    assert not again.created and again.balance == usd(2000)
    # Another charge for the same (paid) purchase is returned, once, and credits nothing.
    second = await world.certificates.complete_payment(
        ALICE, purchase.public_id, "XTR", 1000, "charge-x", "p"
    )
    assert isinstance(second, ReturnedCharge) and second.status == "returning"
    assert second.purchase_id == purchase.id and second.amount == 1000
    redelivered = await world.certificates.complete_payment(
        ALICE, purchase.public_id, "XTR", 1000, "charge-x", "p"
    )
    assert redelivered == second
    # A wrong amount, someone else's purchase: nothing is credited blindly.
    other = await world.certificates.create_purchase(ALICE, usd(500), "self")
    for user, payload, total, charge_id in (
        (ALICE, purchase.public_id, 999, "charge-w"),
        (ALICE, other.public_id, 1, "charge-y"),
        (BOB, other.public_id, 250, "charge-z"),
    ):
        with pytest.raises(PaymentUnmatched):
            await world.certificates.complete_payment(user, payload, "XTR", total, charge_id, "p")
    balances = await world.base.ledger.balances(ALICE)
    assert balances.balance == usd(2000) and balances.cashback_available == usd(20)
    await world.check()


async def test_spending_deducts_certificates_oldest_first(world: World) -> None:
    for minor in (5000, 6000, 5000):
        await world.pay(ALICE, minor)
    async with world.base.db.unit_of_work() as uow:
        await world.certificates.spend(
            uow, ALICE, usd(14799), key="order-pay:1", kind="order_payment", to=ORDERS
        )
    page = await world.certificates.page(ALICE, 0)
    assert [(c.nominal.minor, c.remaining.minor) for c in page.page.items] == [
        (5000, 1201),
        (6000, 0),
        (5000, 0),
    ]
    assert page.balance == usd(1201) and page.live == 1
    await world.check()


async def test_the_balance_cap_holds_for_purchases_and_claims(database_url: str) -> None:
    world = World(database_url, balance_max=usd(3000), maximum=usd(3000))
    await world.base.open(ALICE, BOB)
    try:
        await world.pay(ALICE, 2500)
        with pytest.raises(BalanceCapExceeded) as capped:
            await world.certificates.create_purchase(ALICE, usd(1000), "self")
        assert capped.value.params["room"] == usd(500)
        await world.pay(BOB, 1000, "gift")
        gift = await world.gifts.latest_of(BOB)
        assert gift is not None
        with pytest.raises(BalanceCapExceeded):
            await world.gifts.claim(ALICE, gift.code)
        assert (await world.gifts.latest_of(BOB)).status == "open"  # type: ignore[union-attr]
    finally:
        await world.base.close()


async def test_a_gift_is_claimed_once_and_never_by_its_giver(world: World) -> None:
    await world.pay(ALICE, 2000, "gift")
    gift = await world.gifts.latest_of(ALICE)
    assert gift is not None and len(gift.code) == 16
    assert (await world.base.ledger.balances(ALICE)).balance == usd(0)  # held in escrow
    with pytest.raises(GiftOwnCode):
        await world.gifts.claim(ALICE, gift.code)
    claimed = await world.gifts.claim(BOB, gift.code)
    assert claimed.amount == usd(2000) and claimed.balance == usd(2000)
    with pytest.raises(GiftUnavailable) as second:
        await world.gifts.claim(CAROL, gift.code)
    assert second.value.reason == "claimed"
    # The giver opening their link now hears who took it, and when.
    with pytest.raises(GiftUnavailable) as own:
        await world.gifts.claim(ALICE, gift.code)
    assert own.value.reason == "own_claimed" and own.value.params["name"] == f"user{BOB}"
    page = await world.certificates.page(BOB, 0)
    assert [(c.source, c.remaining) for c in page.page.items] == [("gift", usd(2000))]
    await world.check()


async def test_two_claimers_racing_have_exactly_one_winner(world: World) -> None:
    for round_ in range(5):
        await world.pay(ALICE, 1000, "gift", charge=f"race-{round_}")
        gift = await world.gifts.latest_of(ALICE)
        assert gift is not None
        results = await asyncio.gather(
            world.gifts.claim(BOB, gift.code),
            world.gifts.claim(CAROL, gift.code),
            return_exceptions=True,
        )
        winners = [r for r in results if not isinstance(r, BaseException)]
        losers = [r for r in results if isinstance(r, GiftUnavailable)]
        assert len(winners) == 1 and len(losers) == 1, results
    bob = (await world.base.ledger.balances(BOB)).balance
    carol = (await world.base.ledger.balances(CAROL)).balance
    assert bob + carol == usd(5000)
    await world.check()


async def test_wrong_codes_lock_claiming_for_the_hour(world: World) -> None:
    for attempt in range(9):
        with pytest.raises(GiftCodeInvalid) as wrong:
            await world.gifts.claim(BOB, f"{'a' * 15}{'bcdefghij'[attempt]}")
        assert wrong.value.params["attempts_left"] == 9 - attempt
    with pytest.raises(GiftCodeLocked):
        await world.gifts.claim(BOB, "not-even-a-code")
    await world.pay(ALICE, 1000, "gift")
    gift = await world.gifts.latest_of(ALICE)
    assert gift is not None
    with pytest.raises(GiftCodeLocked):  # even the right code waits for the hour
        await world.gifts.claim(BOB, gift.code)
    world.base.clock.advance(timedelta(hours=1, seconds=1))
    assert (await world.gifts.claim(BOB, gift.code)).amount == usd(1000)


async def test_an_unclaimed_gift_returns_to_its_giver_once(world: World) -> None:
    await world.pay(ALICE, 1500, "gift")
    gift = await world.gifts.latest_of(ALICE)
    assert gift is not None
    world.base.clock.advance(timedelta(days=29))
    assert await world.gifts.expire_due() == []
    world.base.clock.advance(timedelta(days=1))
    returned = await world.gifts.expire_due()
    assert [g.id for g in returned] == [gift.id]
    assert await world.gifts.expire_due() == []  # a second run finds nothing
    assert (await world.base.ledger.balances(ALICE)).balance == usd(1500)
    # The giver hears it once, with the amount and the balance it went back to.
    notices = [n for n, _ in await NoticeService(world.base.db, world.base.clock).recent()]
    expired = [n for n in notices if n.template == "notice-gift-expired"]
    assert [(n.chat_id, n.kind) for n in expired] == [(ALICE, "gift_expired")]
    assert decode(expired[0].params) == {"amount": usd(1500), "balance": usd(1500)}
    page = await world.certificates.page(ALICE, 0)
    assert [(c.source, c.remaining) for c in page.page.items] == [("refund", usd(1500))]
    with pytest.raises(GiftUnavailable) as late:
        await world.gifts.claim(BOB, gift.code)
    assert late.value.reason == "expired"
    await world.check()


async def test_a_refund_takes_back_the_certificate_and_its_cashback(world: World) -> None:
    charge = await world.pay(ALICE, 5000)
    result = await world.certificates.reverse(charge)
    assert result.reversed
    again = await world.certificates.reverse(charge)
    assert not again.reversed
    balances = await world.base.ledger.balances(ALICE)
    assert balances.balance == usd(0) and balances.cashback_available == usd(0)
    gift_charge = await world.pay(ALICE, 1000, "gift")
    assert (await world.certificates.reverse(gift_charge)).reversed
    gift = await world.gifts.latest_of(ALICE)
    assert gift is not None and gift.status == "refunded"
    await world.check()


async def test_money_that_matches_nothing_is_reported_to_the_operators_once(
    database_url: str,
) -> None:
    world = World(database_url, operators_chat=-100)
    await world.base.open(ALICE)
    try:
        other = await world.certificates.create_purchase(ALICE, usd(500), "self")
        for _ in range(2):  # Telegram delivers the same payment again
            with pytest.raises(PaymentUnmatched):
                await world.certificates.complete_payment(
                    ALICE, other.public_id, "XTR", 1, "charge-odd", "p"
                )
        rows = await world.base.fetch("SELECT chat_id, template, params FROM outbox")
        assert [(r[0], r[1]) for r in rows] == [(-100, "ops-payment-unmatched")]
        assert "charge-odd" in rows[0][2]
        assert (await world.base.ledger.balances(ALICE)).balance == usd(0)
        # A refund Telegram reports for money that is spent: the operators decide, once.
        charge = await world.pay(ALICE, 2000)
        async with world.base.db.unit_of_work() as uow:
            await world.certificates.spend(
                uow, ALICE, usd(2000), key="order-pay:1", kind="order_payment", to=ORDERS
            )
        assert await world.certificates.take_back(charge) is None
        assert await world.certificates.take_back(charge) is None
        rows = await world.base.fetch("SELECT template FROM outbox ORDER BY id")
        assert [r[0] for r in rows] == ["ops-payment-unmatched", "ops-refund-unreversed"]
        await world.check()
    finally:
        await world.base.close()
