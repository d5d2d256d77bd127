"""Searches of charts kept out of addresses.

A name or MRN typed in a list's search box would otherwise travel in the URL
(`?q=Smith`): into the browser's history on a shared clinic computer, and into
every link of the list. Here the box posts the term; the session keeps it under a
random token, and the list's address carries only the token (`?s=...`), so its
pages, sorting and filters keep the search while the term stays on the server.
"""

import secrets

from django.contrib.admin.views.main import PAGE_VAR, SEARCH_VAR
from django.http import HttpResponseRedirect
from django.middleware.csrf import get_token
from unfold.views import ChangeList

TOKEN_VAR = "s"
SESSION_KEY = "ndas:searches"
# Searches a session keeps (the oldest go first): enough for a few open tabs.
KEPT_SEARCHES = 20


class SessionSearchChangeList(ChangeList):
    """A change list whose search term comes from the session, by token."""

    def __init__(self, request, *args, **kwargs):
        # For the search box's form: the search_form tag's template gets no
        # request context, so no {% csrf_token %} of its own.
        self.csrf_token = get_token(request)
        super().__init__(request, *args, **kwargs)

    def get_filters_params(self, params=None):
        lookup_params = super().get_filters_params(params)
        lookup_params.pop(TOKEN_VAR, None)  # not a field to filter on
        return lookup_params

    def get_queryset(self, request, exclude_parameters=None):
        self.query = search_term(request)
        return super().get_queryset(request, exclude_parameters)


class SessionSearchMixin:
    """For ModelAdmins whose searches name patients: see the module's docstring.
    The search box (templates/admin/search_form.html) posts when
    `search_in_session` is set."""

    search_in_session = True

    def get_changelist(self, request, **kwargs):
        return SessionSearchChangeList

    def changelist_view(self, request, extra_context=None):
        posted = request.method == "POST" and "_search" in request.POST
        if posted or SEARCH_VAR in request.GET:
            # A search typed in the box, or an address with a term in it (an old
            # bookmark): keep the term, and show the list without it in the URL.
            source = request.POST if posted else request.GET
            return HttpResponseRedirect(
                search_url(request, source.get(SEARCH_VAR, "").strip())
            )
        return super().changelist_view(request, extra_context)


def search_term(request) -> str:
    """The term of the search this request's token names ('' for none)."""
    token = request.GET.get(TOKEN_VAR, "")
    return request.session.get(SESSION_KEY, {}).get(token, "") if token else ""


def search_url(request, term: str) -> str:
    """The list at its first page, with the request's filters, searching `term`."""
    query = request.GET.copy()
    for name in (SEARCH_VAR, TOKEN_VAR, PAGE_VAR):
        query.pop(name, None)
    if term:
        searches = dict(request.session.get(SESSION_KEY, {}))
        while len(searches) >= KEPT_SEARCHES:
            searches.pop(next(iter(searches)))
        token = secrets.token_urlsafe(8)
        searches[token] = term
        request.session[SESSION_KEY] = searches
        query[TOKEN_VAR] = token
    return request.path + (f"?{query.urlencode()}" if query else "")
