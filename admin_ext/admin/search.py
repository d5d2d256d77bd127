"""Searches of charts kept out of addresses.

A name or MRN typed in a list's search box would otherwise travel in the URL
(`?q=Smith`): into the browser's history on a shared clinic computer, and into
every link of the list. Here the box posts the term; the session keeps it under a
random token, and the list's address carries only the token (`?s=...`), so its
pages, sorting and filters keep the search while the term stays on the server.
"""

import secrets

from django.contrib import messages
from django.contrib.admin.views.main import PAGE_VAR, SEARCH_VAR
from django.http import HttpResponseRedirect
from django.middleware.csrf import get_token
from django.utils.functional import cached_property

from admin_ext.admin.changelist import PageChangeList
from admin_ext.admin.counts import count_text
from records.common.search import search_bound

TOKEN_VAR = "s"
SESSION_KEY = "ndas:searches"
# Searches a session keeps (the oldest go first): enough for a few open tabs.
KEPT_SEARCHES = 20
E_SEARCH_GONE = (
    "That search is no longer kept (it was made in another session, or too many "
    "searches came after it): the whole list is shown. Search again."
)


class SessionSearchChangeList(PageChangeList):
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

    @cached_property
    def count_text(self) -> str:
        """How many rows the list holds, filters and search applied: exact when
        few, PostgreSQL's estimate beyond (admin_ext/admin/counts.py)."""
        return count_text(self.queryset)


class BoundedSearchMixin:
    """Every admin's search, bounded before it reaches the database (words,
    characters, no control characters: records.common.search), whether it comes
    from a list's box or a picker. Every registered admin with a search has it;
    an admin with a search of its own writes `bounded_search_results`."""

    def get_search_results(self, request, queryset, search_term):
        term = search_bound(search_term)
        if term.cut and request.method == "GET":
            warned = request.__dict__.setdefault("_ndas_search_warned", set())
            if term.text not in warned:
                warned.add(term.text)
                messages.warning(request, term.message)
        return self.bounded_search_results(request, queryset, term.text)

    def bounded_search_results(self, request, queryset, search_term):
        return super().get_search_results(request, queryset, search_term)

    def get_changelist_instance(self, request):
        changelist = super().get_changelist_instance(request)
        # The box shows the term as it was searched, not as it was typed.
        changelist.query = search_bound(changelist.query).text
        return changelist


class SessionSearchMixin(BoundedSearchMixin):
    """For ModelAdmins whose searches name patients: see the module's docstring.
    The search box (templates/admin/search_form.html) posts when
    `search_in_session` is set."""

    search_in_session = True
    # Parameters that once carried a term in the address (old bookmarks).
    address_search_vars = (SEARCH_VAR,)

    def get_changelist(self, request, **kwargs):
        return SessionSearchChangeList

    def changelist_view(self, request, extra_context=None):
        redirect = search_redirect(request, self.address_search_vars)
        if redirect is not None:
            return redirect
        return super().changelist_view(request, extra_context)


def search_redirect(request, address_vars) -> HttpResponseRedirect | None:
    """Where a request that names a search must go first, if anywhere: a search
    typed in the box, or an address with a term in it, to the list with its
    token; a token this session does not hold, to the whole list, saying so (an
    action or an export must not run on more rows than were shown)."""
    if request.method == "POST" and "_search" in request.POST:
        return HttpResponseRedirect(
            search_url(request, request.POST.get(SEARCH_VAR, ""), address_vars)
        )
    given = [name for name in address_vars if name in request.GET]
    if given and request.method == "GET":
        term = request.GET.get(given[0], "")
        return HttpResponseRedirect(search_url(request, term, address_vars))
    token = request.GET.get(TOKEN_VAR)
    if token and token not in request.session.get(SESSION_KEY, {}):
        messages.warning(request, E_SEARCH_GONE)
        return HttpResponseRedirect(search_url(request, "", address_vars))
    return None


def search_term(request) -> str:
    """The term of the search this request's token names ('' for none)."""
    token = request.GET.get(TOKEN_VAR, "")
    return request.session.get(SESSION_KEY, {}).get(token, "") if token else ""


def search_url(request, term: str, address_vars) -> str:
    """This page at its first page, with the request's filters, searching `term`."""
    term = search_bound(term).text
    query = request.GET.copy()
    for name in (*address_vars, TOKEN_VAR, PAGE_VAR):
        query.pop(name, None)
    if term:
        searches = dict(request.session.get(SESSION_KEY, {}))
        token = next((t for t, kept in searches.items() if kept == term), None)
        if token is None:
            while len(searches) >= KEPT_SEARCHES:
                searches.pop(next(iter(searches)))
            token = secrets.token_urlsafe(8)
            searches[token] = term
            request.session[SESSION_KEY] = searches
        query[TOKEN_VAR] = token
    return request.path + (f"?{query.urlencode()}" if query else "")
