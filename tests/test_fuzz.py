"""Schemathesis over the whole OpenAPI schema: no 5xx, every response matches its schema."""

import pytest
import schemathesis
from hypothesis import HealthCheck, settings

from server.app import create_app
from server.config import Settings

app = create_app(Settings(start_jobs=False))
schema = schemathesis.openapi.from_asgi("/openapi.json", app)


@schema.parametrize()
@settings(
    max_examples=25,
    deadline=None,
    derandomize=True,
    suppress_health_check=list(HealthCheck),
)
@pytest.mark.filterwarnings("ignore::DeprecationWarning")
def test_api_never_5xx_and_matches_schema(case):
    case.call_and_validate()
