"use strict";
// Autocomplete requests are POSTs, so that what is typed stays out of addresses
// (admin_ext/admin/autocomplete.py); they carry the page's CSRF token, as its
// forms do.
{
  const $ = django.jQuery;
  $.ajaxPrefilter(function (options, original, xhr) {
    if (options.crossDomain || options.type.toUpperCase() !== "POST") {
      return;
    }
    const token = document.querySelector("input[name=csrfmiddlewaretoken]");
    if (token) {
      xhr.setRequestHeader("X-CSRFToken", token.value);
    }
  });
}
