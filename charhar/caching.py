"""Small, rarely edited tables (topics, regions, sections, series) kept in the cache.

Pages that show every topic or series would otherwise pay a query for them on each request.
A save or delete of a row forgets the cached list everywhere the cache is shared (Redis when
several app servers run); the timeout bounds staleness with a per-process cache.
"""

from django.core.cache import cache
from django.db.models.signals import post_delete, post_save
from django.http import Http404
from django.shortcuts import get_object_or_404

TIMEOUT = 300
_registered: set[type] = set()


def _key(model) -> str:
    return f"charhar:rows:{model._meta.label_lower}"


def cached_rows(model) -> list:
    """All rows of `model` in its default order, from the cache when possible."""
    if model not in _registered:
        raise LookupError(f"{model._meta.label} is not registered with charhar.caching.")
    rows = cache.get(_key(model))
    if rows is None:
        rows = list(model._default_manager.all())
        cache.set(_key(model), rows, TIMEOUT)
    return rows


def cached_rows_many(*models) -> dict:
    """`cached_rows` of each of `models`, as {model: rows}, in one round trip to the cache."""
    for model in models:
        if model not in _registered:
            raise LookupError(f"{model._meta.label} is not registered with charhar.caching.")
    found = cache.get_many([_key(model) for model in models])
    rows, missing = {}, {}
    for model in models:
        rows[model] = found.get(_key(model))
        if rows[model] is None:
            rows[model] = missing[_key(model)] = list(model._default_manager.all())
    if missing:
        cache.set_many(missing, TIMEOUT)
    return rows


def cached_row_or_404(model, slug: str):
    """The row of `model` with this slug, from the cached rows when `model` is registered
    (no query), else from the database; a 404 when there is none."""
    if model not in _registered:
        return get_object_or_404(model, slug=slug)
    for row in cached_rows(model):
        if row.slug == slug:
            return row
    raise Http404(f"No {model._meta.verbose_name} matches the given query.")


def register(*models) -> None:
    """Cache these models' rows; called from the apps' ready() so every process forgets."""
    for model in models:

        def forget(model=model, **kwargs):
            cache.delete(_key(model))

        for signal in (post_save, post_delete):
            signal.connect(forget, sender=model, weak=False, dispatch_uid=f"forget-{_key(model)}")
        _registered.add(model)
