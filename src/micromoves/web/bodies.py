"""What every JSON request body of the API shares."""

from __future__ import annotations

import datetime as dt
import re
from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict

ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


class RequestBody(BaseModel):
    """A request body refuses keys it does not know: an integration's typo (``equity_wieght``) would
    otherwise be ignored and the request carried out with the default, with nothing to tell it apart from
    what was meant. The refusal is a 422 in the one error shape, naming the key."""

    model_config = ConfigDict(extra="forbid")


def _iso_date(value: Any) -> Any:
    # Pydantic also reads a number as a Unix time (1817251200 became 2027-08-03) and "20270802" as one;
    # the API's dates are written one way, as in the CSV and JSON formats.
    if isinstance(value, dt.date) or (isinstance(value, str) and ISO_DATE.fullmatch(value)):
        return value
    raise ValueError("a date is written YYYY-MM-DD")


IsoDate = Annotated[dt.date, BeforeValidator(_iso_date)]
