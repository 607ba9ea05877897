"""Fixtures of the operations tests: a private PostgreSQL cluster and fresh databases in it."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest
from sqlalchemy import create_engine, text

from tests.ops.servers import PrivateCluster


@pytest.fixture(scope="session")
def private_pg() -> Iterator[PrivateCluster]:
    """A PostgreSQL cluster only these tests use: they stop and crash it."""
    cluster = PrivateCluster()
    cluster.start()
    yield cluster
    cluster.destroy()


@pytest.fixture
def pg_database(private_pg: PrivateCluster) -> str:
    """A new, migrated database in the private cluster (the cluster is started if a test left it down)."""
    try:
        engine = create_engine(private_pg.url, isolation_level="AUTOCOMMIT")
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
    except Exception:  # noqa: BLE001 - a previous test stopped it
        private_pg.start()
        engine = create_engine(private_pg.url, isolation_level="AUTOCOMMIT")
    engine.dispose()
    return private_pg.new_database(f"ops_{uuid.uuid4().hex[:12]}")
