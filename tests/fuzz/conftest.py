"""The fuzz tests use the end-to-end fixtures."""

from tests.e2e.conftest import fake, world  # noqa: F401
