"""What every JSON request body of the API shares."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class RequestBody(BaseModel):
    """A request body refuses keys it does not know: an integration's typo (``equity_wieght``) would
    otherwise be ignored and the request carried out with the default, with nothing to tell it apart from
    what was meant. The refusal is a 422 in the one error shape, naming the key."""

    model_config = ConfigDict(extra="forbid")
