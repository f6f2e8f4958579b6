import pytest
from django.core.cache import cache


@pytest.fixture(autouse=True)
def _isolated_media_and_cache(settings, tmp_path):
    """Uploads go to a per-test folder and no cached settings or menus leak between tests."""
    settings.MEDIA_ROOT = tmp_path / "media"
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def admin_client(client, admin_user):
    client.force_login(admin_user)
    return client
