"""The API fixtures (live server, clients per role, sample profiles) for the hostile suite."""

from tests.api.conftest import clients, profile, profiles, server  # noqa: F401
