from django import forms

from records.users.mfa import E_REASON

INPUT = (
    "border border-base-200 bg-white font-medium min-w-20 placeholder-base-400 "
    "rounded-default shadow-xs text-font-default-light text-sm focus:ring-3 "
    "focus:ring-primary-500/50 focus:border-primary-600 focus:outline-hidden "
    "group-[.errors]:border-red-600 px-3 py-2 w-full dark:bg-base-900 "
    "dark:border-base-700 dark:text-font-default-dark"
)


class CodeForm(forms.Form):
    code = forms.CharField(
        label="Code",
        max_length=32,
        help_text="The 6-digit code of your authenticator app, or a recovery code.",
        widget=forms.TextInput(
            attrs={
                "autocomplete": "one-time-code",
                "autofocus": True,
                "class": INPUT,
                "spellcheck": "false",
            }
        ),
    )


class ConfirmForm(forms.Form):
    code = forms.CharField(
        label="Code from the app",
        max_length=6,
        min_length=6,
        widget=forms.TextInput(
            attrs={
                "autocomplete": "one-time-code",
                "inputmode": "numeric",
                "class": INPUT,
            }
        ),
    )


class RenameForm(forms.Form):
    name = forms.CharField(
        max_length=64, widget=forms.TextInput(attrs={"class": INPUT})
    )


class ResetForm(forms.Form):
    reason = forms.CharField(
        label="Reason for the reset",
        max_length=300,
        error_messages={"required": E_REASON},
        widget=forms.TextInput(attrs={"class": INPUT}),
        help_text="E.g. 'phone lost, identity checked in person by J. Smith'.",
    )
