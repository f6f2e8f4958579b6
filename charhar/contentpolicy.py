"""The Content Security Policy header (django-csp), with the policy built once per process.

django-csp builds the header from `CONTENT_SECURITY_POLICY` on every response, about a
tenth of the cost of a page served from the page cache. The policy only changes with the
settings, and the nonce is the only part of its own each response has: here the policy is
built once with a slot where the nonce goes, and each response gets a copy with its nonce
in it. A response that carries a policy of its own (django-csp's decorators) is handled by
django-csp itself.
"""

import http.client

from csp.constants import HEADER, HEADER_REPORT_ONLY
from csp.middleware import CheckableLazyObject, CSPMiddleware
from csp.utils import build_policy
from django.conf import settings
from django.core.signals import setting_changed
from django.dispatch import receiver

# What django-csp's decorators put on a response for a policy of its own.
_OWN_POLICY = (
    "_csp_config",
    "_csp_update",
    "_csp_replace",
    "_csp_config_ro",
    "_csp_update_ro",
    "_csp_replace_ro",
)
# Where each response's nonce goes: no setting can hold a NUL (no header may).
_SLOT = "\x00nonce\x00"
_DEBUG_CODES = (http.client.INTERNAL_SERVER_ERROR, http.client.NOT_FOUND)
_HEADERS = (
    (HEADER, False, "_csp_exempt"),
    (HEADER_REPORT_ONLY, True, "_csp_exempt_ro"),
)
_built: dict[tuple[bool, bool], tuple[str, tuple[str, ...]]] = {}


@receiver(setting_changed, dispatch_uid="charhar-content-policy-changed")
def _policy_changed(setting, **kwargs):
    if setting.startswith("CONTENT_SECURITY_POLICY"):
        _built.clear()


def _policy(report_only: bool, nonce: str | None) -> tuple[str, tuple[str, ...]]:
    """(the header's value for `nonce`, the path prefixes it is not sent for)."""
    key = (report_only, bool(nonce))
    built = _built.get(key)
    if built is None:
        name = "CONTENT_SECURITY_POLICY_REPORT_ONLY" if report_only else "CONTENT_SECURITY_POLICY"
        config = getattr(settings, name, None) or {}
        built = _built[key] = (
            build_policy(nonce=_SLOT if nonce else None, report_only=report_only),
            tuple(config.get("EXCLUDE_URL_PREFIXES", None) or ()),
        )
    template, excluded = built
    return (template.replace(_SLOT, nonce) if nonce else template), excluded


class ContentSecurityPolicyMiddleware(CSPMiddleware):
    """django-csp's middleware, with the headers made from the policy built once."""

    def process_response(self, request, response):
        if any(getattr(response, name, None) is not None for name in _OWN_POLICY):
            return super().process_response(request, response)
        if response.status_code in _DEBUG_CODES and settings.DEBUG:
            return response
        nonce = getattr(request, "_csp_nonce", None)
        for header, report_only, exempt in _HEADERS:
            policy, excluded = _policy(report_only, nonce)
            if (
                policy
                and header not in response
                and getattr(response, exempt, False) is False
                and not request.path_info.startswith(excluded)
            ):
                response[header] = policy
        if nonce is None:
            # As django-csp does: a nonce asked for after the header is written is an error.
            request.csp_nonce = CheckableLazyObject(self._csp_nonce_post_response)
        return response
