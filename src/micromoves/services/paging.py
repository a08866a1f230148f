"""Paging, one way for every list a page and its JSON twin show (people, moves, approvals, the team, the
marketplace, an opportunity's applicants, users, API tokens, allocation runs, the release report).

A list is read a page at a time in SQL (a COUNT for the totals, LIMIT/OFFSET for the rows), in an order
that ends on a unique column, so that consecutive pages neither repeat nor skip a row. It takes
``?page=`` (1 the first) and ``?page_size=`` (at most :data:`MAX_PAGE_SIZE`); either out of range is a 422
naming it, as any bad parameter. It answers ``total``, ``page``, ``page_size`` and ``pages``; a page past the
last is an empty list with those totals, not an error (a client paging by ``pages`` stops there).
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field
from sqlalchemy import Select, func, select

PAGE_SIZE = 50  # rows per page unless ?page_size= says otherwise
MAX_PAGE_SIZE = 200
MAX_PAGE = 100_000

PAGES = "the number of pages (at least 1); a page past the last is an empty list with the totals"


class PageQuery(BaseModel):
    """Which page of a list: ``?page=`` and ``?page_size=``."""

    page: int = Field(default=1, ge=1, le=MAX_PAGE, description="the page, 1 the first")
    page_size: int = Field(
        default=PAGE_SIZE, ge=1, le=MAX_PAGE_SIZE, description=f"rows per page (at most {MAX_PAGE_SIZE})"
    )

    @property
    def offset(self) -> int:
        return (self.page - 1) * self.page_size

    def rows(self, query: Select[Any]) -> Select[Any]:
        """``query`` (ordered, ending on a unique column) cut to this page."""
        return query.limit(self.page_size).offset(self.offset)

    def answer(self, total: int) -> dict[str, int]:
        """The page's metadata for a :class:`Paged` list holding ``total`` rows in all."""
        return {
            "total": total,
            "page": self.page,
            "page_size": self.page_size,
            "pages": page_count(total, self.page_size),
        }


FIRST_PAGE = PageQuery()


class Paged(BaseModel):
    """What every paged list says besides its rows."""

    total: int = Field(description="the rows of the list in all, on every page")
    page: int
    page_size: int
    pages: int = Field(description=PAGES)


def page_count(total: int, page_size: int) -> int:
    return max(1, -(-total // page_size))


def count(conn: Any, query: Select[Any]) -> int:
    """How many rows ``query`` selects, counted by the database."""
    return int(conn.scalar(select(func.count()).select_from(query.order_by(None).subquery())) or 0)
