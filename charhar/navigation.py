"""Navigation menus as trees, built from one query and cached until staff change them."""

from dataclasses import dataclass, field

from django.core.cache import cache
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from .models import Menu, MenuItem, Page

CACHE_KEY = "charhar:menus"


@dataclass
class MenuNode:
    label: str
    href: str
    description: str = ""
    children: list["MenuNode"] = field(default_factory=list)

    @property
    def child_links_here(self) -> bool:
        """Whether one of the children goes where this item goes: its drop-down then needs no
        link of its own, which would be a second tab stop to the same page."""
        return any(child.href == self.href for child in self.children)


def build_menus() -> dict[str, list[MenuNode]]:
    """Every menu by its location slug, as a list of top-level nodes with their children."""
    items = MenuItem.objects.select_related("menu", "page").order_by("menu_id", "order", "pk")
    nodes: dict[int, MenuNode] = {}
    menus: dict[str, list[MenuNode]] = {
        slug: [] for slug in Menu.objects.values_list("slug", flat=True)
    }
    pending = []
    for item in items:
        nodes[item.pk] = MenuNode(item.label, item.href, item.description)
        pending.append(item)
    for item in pending:
        node = nodes[item.pk]
        if item.parent_id is None:
            menus.setdefault(item.menu.slug, []).append(node)
        elif item.parent_id in nodes:
            nodes[item.parent_id].children.append(node)
    return menus


def get_menus() -> dict[str, list[MenuNode]]:
    menus = cache.get(CACHE_KEY)
    if menus is None:
        menus = build_menus()
        cache.set(CACHE_KEY, menus, timeout=None)
    return menus


@receiver([post_save, post_delete], sender=Menu)
@receiver([post_save, post_delete], sender=MenuItem)
@receiver([post_save, post_delete], sender=Page)
def _forget_menus(**kwargs):
    cache.delete(CACHE_KEY)
