"""Fill the search vectors that bulk writers left empty, and print how many and how long.

``generate_content`` writes with ``bulk_create``, which sends no signal; unless it fills
the vectors itself, every generated row would be invisible to search and the search rows
of the benchmark would measure an empty result. Prints ``<rows> <seconds>`` on stdout, or
``0 0`` when no row needed it (or the project has no search vectors).
"""

import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def main():
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "charhar.settings.production")
    import django

    django.setup()
    from django.apps import apps

    try:
        from charhar.search import refresh_search_vectors
    except ImportError:
        print("0 0")
        return
    started = time.perf_counter()
    rows = 0
    for label in ("articles.Article", "experts.Expert", "publications.Publication"):
        model = apps.get_model(label)
        if not any(f.name == "search_vector" for f in model._meta.concrete_fields):
            continue
        empty = model._default_manager.filter(search_vector__isnull=True)
        if empty.exists():
            rows += refresh_search_vectors(empty)
    print(f"{rows} {time.perf_counter() - started:.2f}")


if __name__ == "__main__":
    main()
