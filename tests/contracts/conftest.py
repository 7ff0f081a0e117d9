from __future__ import annotations

import pytest


@pytest.fixture(params=["fake", pytest.param("dynamodb", marks=pytest.mark.service)])
def implementation(request: pytest.FixtureRequest) -> str:
    """Which implementation a contract test holds to its promises: the in-memory fake, or the
    DynamoDB one under the emulator (provisioned only for it)."""
    if request.param == "dynamodb":
        request.getfixturevalue("system")
    return str(request.param)
