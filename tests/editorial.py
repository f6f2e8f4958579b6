"""Users in the editorial roles, for the workflow tests.

The roles are made by a data migration; tests that flush the database (live-server browser
tests) remove them, so `role_user` puts them back the same way when they are missing.
"""

import importlib

from django.apps import apps
from django.contrib.auth.models import Group, User

roles_migration = importlib.import_module("charhar.migrations.0004_editorial_roles")


def ensure_roles():
    if Group.objects.filter(name__in=roles_migration.ROLES).count() < len(roles_migration.ROLES):
        roles_migration.create_roles(apps, None)


def role_user(role: str, username: str, password: str = "correct horse battery") -> User:  # noqa: S107
    ensure_roles()
    user = User.objects.create_user(username=username, password=password, is_staff=True)
    user.groups.add(Group.objects.get(name=role))
    return user


def editor(username="editor"):
    return role_user("Editor", username)


def contributor(username="fellow"):
    return role_user("Contributor", username)
