"""SQL types shared by every map statement. SQLAlchemy memoizes a type's part of a statement's
cache key on the type instance, so a cast to a type class (a new instance each time) computed it
again for every statement: about 20 ms of a visit map's build."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import ARRAY, JSONB

TEXT = sa.Text()
NUMERIC = sa.Numeric()
INTEGER = sa.Integer()
FLOAT = sa.Float()
JSON = sa.JSON()
JSONB_OBJECT = JSONB()
INTEGERS = ARRAY(INTEGER)
IDS = ARRAY(sa.BigInteger())
