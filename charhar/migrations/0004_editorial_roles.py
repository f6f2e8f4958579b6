"""The two editorial roles, as groups with exactly the permissions each needs.

Editors run the content: they publish, schedule, unpublish, feature and delete, edit anyone's
work, and look after pages, menus, redirects and the site settings. Contributors draft their
own articles (with bylines, event details and images), preview them and submit them for
review; they may look up the sections, topics, regions and experts they file under (the
admin's autocomplete needs that), and nothing else. Neither role manages users or the
newsletter; superusers do.

The lists are frozen here, as a migration must be; tests/test_workflow_roles.py checks the
groups against them. Running the migration again (or after a role was edited by hand)
resets each group to exactly these permissions.
"""

from django.contrib.auth.management import create_permissions
from django.db import migrations

ALL = ("add", "change", "delete", "view")

EDITOR = {
    "articles": {
        "article": (*ALL, "publish"),
        "articleauthor": ALL,
        "eventdetails": ALL,
        "section": ALL,
    },
    "experts": {"expert": ALL},
    "publications": {"publication": ALL, "publicationauthor": ALL, "series": ALL},
    "charhar": {
        "topic": ALL,
        "region": ALL,
        "office": ALL,
        "page": ALL,
        "menu": ALL,
        "menuitem": ALL,
        "redirect": ALL,
        "sitesettings": ("add", "change", "view"),
    },
    "taggit": {"tag": ALL},
}

CONTRIBUTOR = {
    "articles": {
        "article": ("add", "change", "view"),
        "articleauthor": ALL,
        "eventdetails": ALL,
        "section": ("view",),
    },
    "experts": {"expert": ("view",)},
    "charhar": {"topic": ("view",), "region": ("view",)},
}

ROLES = {"Editor": EDITOR, "Contributor": CONTRIBUTOR}


def _codenames(spec):
    for app_label, models in spec.items():
        for model, actions in models.items():
            for action in actions:
                yield app_label, f"{action}_{model}"


def create_roles(apps, schema_editor):
    # Permissions are normally made after the last migration; the groups need them now.
    for app_config in apps.get_app_configs():
        models_module = getattr(app_config, "models_module", None)
        app_config.models_module = models_module or True
        create_permissions(app_config, apps=apps, verbosity=0)
        app_config.models_module = models_module
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for name, spec in ROLES.items():
        wanted = list(_codenames(spec))
        permissions = []
        for app_label, codename in wanted:
            permissions.append(
                Permission.objects.get(content_type__app_label=app_label, codename=codename)
            )
        group, _created = Group.objects.get_or_create(name=name)
        group.permissions.set(permissions)


def remove_roles(apps, schema_editor):
    apps.get_model("auth", "Group").objects.filter(name__in=ROLES).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
        ("taggit", "0006_rename_taggeditem_content_type_object_id_taggit_tagg_content_8fc721_idx"),
        ("charhar", "0003_history"),
        ("articles", "0002_editorial_workflow"),
        ("experts", "0002_history"),
        ("publications", "0003_history"),
    ]

    operations = [migrations.RunPython(create_roles, remove_roles)]
