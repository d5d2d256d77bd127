"""Views for the database fault tests: one that reads, one that runs too long."""

from django.db import connection, transaction
from django.http import JsonResponse
from django.urls import path

from ndas.urls import handler500  # noqa: F401  (errors raised in middleware)
from ndas.urls import urlpatterns as project_urlpatterns
from records.users.models import User


def count(request):
    return JsonResponse({"users": User.objects.count()})


def slow(request):
    # A real statement timeout: PostgreSQL cancels the statement (QueryCanceled).
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET LOCAL statement_timeout = 100")
        cursor.execute("SELECT pg_sleep(5)")
    return JsonResponse({})


urlpatterns = project_urlpatterns + [
    path("faults/count/", count),
    path("faults/slow/", slow),
]
