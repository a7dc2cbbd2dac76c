"""The ids buttons carry. A button's data comes from the user's client and can be forged; the database's id
columns are 32-bit, so an id beyond them fails the button's filter and gets the stale-button answer instead
of failing the query (issue 7, bad input)."""

from typing import Annotated

from pydantic import Field

MAX_ROW_ID = 2**31 - 1  # id columns are 32-bit INTEGERs
RowId = Annotated[int, Field(ge=0, le=MAX_ROW_ID)]
