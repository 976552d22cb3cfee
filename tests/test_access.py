"""API keys: hashed at rest, roles resolved, revoked keys refused."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from gis.access import ANONYMOUS, create_key, principal_for, revoke_key
from gis.errors import Unauthorized
from gis.spec import Role


def test_key_is_stored_only_as_a_hash_and_resolves_to_its_role(conn: sa.Connection) -> None:
    key = create_key(conn, "Partner X", Role.partner)
    stored = conn.execute(sa.text("SELECT key_hash FROM api_keys")).scalar_one()
    assert key not in stored and len(stored) == 64
    assert principal_for(conn, key).role == Role.partner
    assert principal_for(conn, None) == ANONYMOUS


def test_revoked_and_unknown_keys_are_refused(conn: sa.Connection) -> None:
    key = create_key(conn, "Old", Role.editor)
    key_id = conn.execute(sa.text("SELECT id FROM api_keys")).scalar_one()
    revoke_key(conn, key_id)
    with pytest.raises(Unauthorized):
        principal_for(conn, key)
    with pytest.raises(Unauthorized):
        principal_for(conn, "sg_not-a-key")
