"""Saved cards, masked."""

from __future__ import annotations

from datetime import datetime

from bot.domain.models import SavedCard
from bot.storage.session import Row, Session

_COLUMNS = "id, user_id, brand, first6, last4, exp_month, exp_year"


def _card(row: Row) -> SavedCard:
    return SavedCard(
        id=row["id"],
        user_id=row["user_id"],
        brand=row["brand"],
        first6=row["first6"],
        last4=row["last4"],
        exp_month=row["exp_month"],
        exp_year=row["exp_year"],
    )


class CardRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    async def of_user(self, user_id: int) -> list[SavedCard]:
        rows = await self.session.fetch(
            f"SELECT {_COLUMNS} FROM cards WHERE user_id = $1 ORDER BY id", user_id
        )
        return [_card(row) for row in rows]

    async def add(
        self,
        user_id: int,
        brand: str,
        first6: str,
        last4: str,
        exp_month: int,
        exp_year: int,
        now: datetime,
    ) -> SavedCard | None:
        """The new card, or None when the user has this very card already."""
        row = await self.session.fetchrow(
            "INSERT INTO cards (user_id, brand, first6, last4, exp_month, exp_year, created_at)"
            " VALUES ($1, $2, $3, $4, $5, $6, $7)"
            " ON CONFLICT (user_id, first6, last4, exp_month, exp_year) DO NOTHING"
            f" RETURNING {_COLUMNS}",
            user_id,
            brand,
            first6,
            last4,
            exp_month,
            exp_year,
            now,
        )
        return _card(row) if row else None

    async def get(self, user_id: int, card_id: int) -> SavedCard | None:
        row = await self.session.fetchrow(
            f"SELECT {_COLUMNS} FROM cards WHERE id = $1 AND user_id = $2", card_id, user_id
        )
        return _card(row) if row else None

    async def delete(self, user_id: int, card_id: int) -> bool:
        """Only the owner's card; False when it is not theirs or already gone."""
        rows = await self.session.fetch(
            "DELETE FROM cards WHERE id = $1 AND user_id = $2 RETURNING id", card_id, user_id
        )
        return bool(rows)
