"""Admin widgets: the rich-text editor for bodies and bios, and the focal-point picker.

The editor is TinyMCE (MIT, vendored in static/admin-editor/tinymce/), configured from the
sanitizer's own lists so it offers and keeps only what `charhar.sanitize.clean_html` stores:
what an editor sees is what readers get. Its paste handling (static/admin-editor/editor.js)
tidies Word and Google Docs markup before it reaches the page; the sanitizer cleans again
on save whatever the browser sent.
"""

import json

from django import forms

from .sanitize import ALLOWED_ATTRIBUTES, ALLOWED_TAGS

# Attributes the editor itself never needs to offer: pasted ids and classes mean nothing on
# this site. TinyMCE marks captioned images with figure.image, so that class stays.
_EDITOR_SKIPS = {"class", "id", "loading"}
_EDITOR_KEEPS = {"figure": {"class"}}
# The sanitizer keeps h2–h6; the page's title is the only h1.
BLOCK_FORMATS = "Paragraph=p; Heading 2=h2; Heading 3=h3; Heading 4=h4; Preformatted=pre"


def editor_valid_elements() -> str:
    """TinyMCE's `valid_elements`: the sanitizer's tags, each with its allowed attributes."""
    shared = ALLOWED_ATTRIBUTES.get("*", set())
    rules = []
    for tag in sorted(ALLOWED_TAGS):
        attributes = (shared | ALLOWED_ATTRIBUTES.get(tag, set())) - _EDITOR_SKIPS
        attributes |= _EDITOR_KEEPS.get(tag, set())
        rules.append(f"{tag}[{'|'.join(sorted(attributes))}]" if attributes else tag)
    return ",".join(rules)


def editor_config() -> dict:
    return {
        "valid_elements": editor_valid_elements(),
        "block_formats": BLOCK_FORMATS,
    }


class RichTextarea(forms.Textarea):
    """A textarea the admin turns into the WYSIWYG editor (plain textarea without JS)."""

    class Media:
        js = ["admin-editor/tinymce/tinymce.min.js", "admin-editor/editor.js"]
        css = {"all": ["admin-editor/editor.css"]}

    def __init__(self, attrs=None):
        attrs = {"rows": 20, "cols": 80, **(attrs or {})}
        attrs["data-rich-text"] = json.dumps(editor_config())
        super().__init__(attrs)


class FocalPointInput(forms.NumberInput):
    """A percentage (0–100) with the image beside it: a click on the image sets both axes."""

    class Media:
        js = ["admin-editor/focal-point.js"]
        css = {"all": ["admin-editor/editor.css"]}

    def __init__(self, axis: str, image_field: str, attrs=None):
        attrs = {"min": 0, "max": 100, "step": 1, **(attrs or {})}
        attrs["data-focal-axis"] = axis
        attrs["data-focal-image"] = image_field
        super().__init__(attrs)
