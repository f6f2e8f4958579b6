"""Forms of the public newsletter pages."""

from django import forms
from django.utils.translation import gettext_lazy as _

from .models import EMAIL_MAX_LENGTH, Interest, Subscriber, normalize_email


class InterestsField(forms.MultipleChoiceField):
    widget = forms.CheckboxSelectMultiple

    def __init__(self, **kwargs):
        super().__init__(
            choices=Interest.choices,
            label=_("Send me"),
            error_messages={"required": _("Choose at least one kind of email.")},
            **kwargs,
        )


class SignupForm(forms.Form):
    SOURCES = [Subscriber.Source.STAY_INFORMED, Subscriber.Source.SIGNUP_PAGE]

    email = forms.EmailField(
        label=_("Email address"),
        max_length=EMAIL_MAX_LENGTH,
        error_messages={
            "invalid": _("Enter a valid email address, such as name@example.org."),
            "max_length": _("An email address has at most 320 characters."),
        },
    )
    interests = InterestsField(initial=Interest.values)
    # The honeypot: hidden from people, filled in by form-filling robots.
    website = forms.CharField(required=False, label=_("Leave this field empty"))
    source = forms.ChoiceField(
        choices=[(source.value, source.label) for source in SOURCES],
        required=False,
        widget=forms.HiddenInput,
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # Browsers and robots may send more; the field's cap is checked before anything else.
        self.fields["email"].widget.attrs.update(
            {"autocomplete": "email", "maxlength": EMAIL_MAX_LENGTH}
        )

    @property
    def is_trap(self) -> bool:
        return bool(self.data.get("website"))

    def clean_email(self):
        return normalize_email(self.cleaned_data["email"])

    def clean_source(self):
        return self.cleaned_data.get("source") or Subscriber.Source.STAY_INFORMED


class PreferencesForm(forms.Form):
    interests = InterestsField()
