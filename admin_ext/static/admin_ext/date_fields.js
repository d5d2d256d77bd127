"use strict";
// A date or time field's calendar and clock buttons (Django's DateTimeShortcuts,
// drawn inside unfold's field) stay clickable but out of the Tab order: Tab goes
// from one field to the next, and a date is typed (DD/MM/YYYY or 17 May 2023).
// Loaded on every admin page (UNFOLD["SCRIPTS"]); DateTimeShortcuts draws its
// buttons on the window's load, and inlines add fields later: a MutationObserver
// takes those.
{
  const SELECTOR = ".datetimeshortcuts a[id^='calendarlink'], .datetimeshortcuts a[id^='clocklink']";

  const untab = () => {
    document.querySelectorAll(SELECTOR).forEach((link) => {
      if (link.getAttribute("tabindex") !== "-1") {
        link.setAttribute("tabindex", "-1");
      }
    });
  };

  window.addEventListener("load", () => {
    window.setTimeout(untab, 0);
    new MutationObserver(untab).observe(document.body, { childList: true, subtree: true });
  });
}
