"""Test URLconf: the project's routes plus views that fail on purpose."""

from django.http import HttpResponse
from django.urls import path

from ndas.urls import handler404, handler500  # noqa: F401
from ndas.urls import urlpatterns as project_urlpatterns


def boom(request):
    raise RuntimeError("kaboom: secret detail that must not reach the client")


def not_found(request):
    from django.http import Http404

    raise Http404("no such thing")


def whoami(request):
    return HttpResponse(str(request.user.pk or ""))


urlpatterns = project_urlpatterns + [
    path("test/boom/", boom),
    path("test/missing/", not_found),
    path("test/whoami/", whoami),
]
