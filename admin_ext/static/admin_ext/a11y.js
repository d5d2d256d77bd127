"use strict";
// Names what third-party widgets draw without one. select2 hides the real <select>
// from assistive technology and draws its own combobox and search box, which copy
// nothing of the field's label: a screen reader would announce an unnamed
// "combobox" (axe: aria-input-field-name, label); they get the label's name here.
// Loaded on every admin page (UNFOLD["SCRIPTS"]); a MutationObserver names widgets
// drawn later (inlines, Django's two-list picker, the dropdown's search box, which
// select2 adds to the body when it opens).
{
  const labelId = (fieldId) => {
    const label = fieldId && document.querySelector(`label[for="${fieldId}"]`);
    if (!label) {
      return null;
    }
    if (!label.id) {
      label.id = `${fieldId}-label`;
    }
    return label.id;
  };

  const nameWidgets = () => {
    document.querySelectorAll("select.select2-hidden-accessible").forEach((select) => {
      const container = select.nextElementSibling;
      const id = labelId(select.id);
      if (!id || !container || !container.classList.contains("select2-container")) {
        return;
      }
      container.querySelectorAll(".select2-selection").forEach((selection) => {
        const rendered = selection.querySelector(".select2-selection__rendered[id]");
        // The label first, then what is chosen (for a single choice).
        const names = rendered && !selection.classList.contains("select2-selection--multiple")
          ? `${id} ${rendered.id}` : id;
        if (selection.getAttribute("aria-labelledby") !== names) {
          selection.setAttribute("aria-labelledby", names);
        }
        // Open, a combobox names the list it controls (ARIA 1.2); select2 4.0
        // sets only aria-owns.
        const owns = selection.getAttribute("aria-owns");
        if (selection.getAttribute("aria-expanded") === "true" && owns) {
          if (selection.getAttribute("aria-controls") !== owns) {
            selection.setAttribute("aria-controls", owns);
          }
        } else {
          selection.removeAttribute("aria-controls");
        }
      });
      container.querySelectorAll(".select2-selection__rendered[role=textbox], .select2-search__field")
        .forEach((element) => element.setAttribute("aria-labelledby", id));
    });
    // Django's two-list picker (filter_horizontal) labels its filter boxes with an
    // icon whose aria-label a span may not carry without a role.
    document.querySelectorAll(".help-tooltip[aria-label]:not([role])")
      .forEach((icon) => icon.setAttribute("role", "img"));
    // The search box of an open dropdown names its results list after the field.
    document.querySelectorAll(".select2-dropdown .select2-search__field[aria-controls]")
      .forEach((search) => {
        const match = /^select2-(.+)-results$/.exec(search.getAttribute("aria-controls"));
        const id = match && labelId(match[1]);
        if (id) {
          search.setAttribute("aria-labelledby", id);
        }
      });
  };

  let pending = false;
  const schedule = () => {
    if (!pending) {
      pending = true;
      window.requestAnimationFrame(() => {
        pending = false;
        nameWidgets();
      });
    }
  };

  document.addEventListener("DOMContentLoaded", () => {
    nameWidgets();
    new MutationObserver(schedule).observe(document.body, { childList: true, subtree: true });
  });
}
