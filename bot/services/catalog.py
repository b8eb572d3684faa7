"""The shop's catalog: categories and products from a JSON file (CATALOG_PATH), and stock.

The file holds what the shop sells (titles and descriptions in ru and en, a price in units of
CURRENCY, a cashback percent and a stock count). How much of the stock orders have reserved is
kept in the database, so a restart or a second process never oversells.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

from pydantic import BaseModel, Field, ValidationError

from bot.domain.errors import OrderRefused
from bot.domain.models import Order, Page
from bot.domain.money import Money
from bot.services.orders import OrderService
from bot.storage.database import Database

log = logging.getLogger(__name__)

PAGE_SIZE = 4


class Localized(BaseModel):
    ru: str = Field(min_length=1, max_length=200)
    en: str = Field(min_length=1, max_length=200)

    def __call__(self, locale: str) -> str:
        return self.ru if locale == "ru" else self.en


class Category(BaseModel):
    id: str = Field(pattern=r"^[a-z0-9_]{1,20}$")
    title: Localized


class Product(BaseModel):
    id: str = Field(pattern=r"^[a-z0-9_]{1,20}$")
    category: str
    title: Localized
    description: Localized
    price: Decimal = Field(gt=0)
    cashback_percent: Decimal = Field(ge=0, le=100)
    stock: int = Field(ge=0)


class CatalogFile(BaseModel):
    categories: list[Category]
    products: list[Product]


class CatalogError(Exception):
    """The catalog file cannot be used; the message says why, in one line."""


@dataclass(frozen=True, slots=True)
class Offer:
    product: Product
    price: Money
    available: int


DEMO_CATALOG = Path(__file__).resolve().parents[2] / "data" / "catalog.json"


def catalog_from_settings(path: Path | None) -> CatalogFile:
    """CATALOG_PATH, or the demo catalog when it is unset (an empty shop if that is gone)."""
    if path is not None:
        return load_catalog(path)
    if DEMO_CATALOG.is_file():
        return load_catalog(DEMO_CATALOG)
    log.warning("event=catalog_empty reason=no_catalog_path_and_no_demo_catalog")
    return CatalogFile(categories=[], products=[])


def load_catalog(path: Path) -> CatalogFile:
    try:
        raw = json.loads(path.read_text("utf-8"))
        catalog = CatalogFile.model_validate(raw)
    except OSError as exc:
        raise CatalogError(f"CATALOG_PATH {path}: {exc.strerror}") from None
    except (ValueError, ValidationError) as exc:
        raise CatalogError(f"CATALOG_PATH {path}: not a valid catalog: {exc}") from None
    known = {category.id for category in catalog.categories}
    stray = [p.id for p in catalog.products if p.category not in known]
    if stray:
        raise CatalogError(f"CATALOG_PATH {path}: products in unknown categories: {stray}")
    if len({p.id for p in catalog.products}) != len(catalog.products):
        raise CatalogError(f"CATALOG_PATH {path}: product ids repeat")
    return catalog


class CatalogService:
    def __init__(self, db: Database, orders: OrderService, catalog: CatalogFile) -> None:
        self.db = db
        self.orders = orders
        self.catalog = catalog
        self.currency = orders.ledger.currency
        self._products = {product.id: product for product in catalog.products}

    def categories(self) -> list[Category]:
        return list(self.catalog.categories)

    def category(self, category_id: str) -> Category:
        found = next((c for c in self.catalog.categories if c.id == category_id), None)
        if found is None:
            raise OrderRefused("no_product")
        return found

    def price(self, product: Product) -> Money:
        return Money.from_units(product.price, self.currency)

    async def page(self, category_id: str, page: int) -> Page[Offer]:
        self.category(category_id)
        page = max(page, 0)
        products = [p for p in self.catalog.products if p.category == category_id]
        chosen = products[page * PAGE_SIZE : (page + 1) * PAGE_SIZE]
        reserved = await self._reserved([p.id for p in chosen])
        offers = [Offer(p, self.price(p), max(p.stock - reserved.get(p.id, 0), 0)) for p in chosen]
        return Page(offers, page, PAGE_SIZE, len(products))

    async def offer(self, product_id: str) -> Offer:
        product = self._products.get(product_id)
        if product is None:
            raise OrderRefused("no_product")
        reserved = await self._reserved([product_id])
        return Offer(
            product, self.price(product), max(product.stock - reserved.get(product_id, 0), 0)
        )

    async def _reserved(self, product_ids: list[str]) -> dict[str, int]:
        async with self.db.read() as uow:
            return await uow.orders.reserved(product_ids)

    async def order(
        self, user_id: int, product_id: str, quantity: int, locale: str, *, card: int
    ) -> Order:
        """An order for ``quantity`` of a product, its stock reserved in the same unit of work
        (released again if the order is cancelled). ``card`` is the message the Order button
        sits on: a double tap returns the order it made while that order awaits payment."""
        product = self._products.get(product_id)
        if product is None:
            raise OrderRefused("no_product")
        if not 1 <= quantity <= 10:
            raise OrderRefused("quantity")
        total = Money(self.price(product).minor * quantity, self.currency)
        title = product.title(locale) + (f" × {quantity}" if quantity > 1 else "")
        return await self.orders.create(
            user_id,
            title,
            total,
            cashback_percent=product.cashback_percent,
            quantity=quantity,
            product_id=product.id,
            stock=product.stock,
            key=f"shop-order:{user_id}:{card}:{product.id}:{quantity}",
            again_once_settled=True,
        )
