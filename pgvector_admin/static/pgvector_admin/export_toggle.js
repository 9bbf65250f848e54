/* The export page's "Select all" toggle, bound here instead of by an inline onchange
 * attribute (the Content-Security-Policy runs no inline script). onSelectToggleChange is
 * django-import-export's own (export_selectable_fields.js). */
document.addEventListener("DOMContentLoaded", function () {
  document.querySelectorAll(".select-toggle").forEach(function (toggle) {
    toggle.addEventListener("change", function (event) {
      if (typeof onSelectToggleChange === "function") onSelectToggleChange(event);
    });
  });
});
