"""Second factors have no admin pages of their own: django-otp's TOTP admin would
show every secret and let one user's factors be edited without the reset's reason,
events and end of sessions. Users manage theirs at /admin/mfa/ (admin_ext.mfa);
an administrator resets another's there."""

from django.contrib import admin
from django_otp.plugins.otp_totp.models import TOTPDevice

if admin.site.is_registered(TOTPDevice):
    admin.site.unregister(TOTPDevice)
