// The export page's "Select all" toggle (shop/core/templates/admin/import_export/export.html):
// django-import-export binds it with an inline onchange attribute, which the site's
// Content-Security-Policy refuses; this binds the same handler from a file.
document.addEventListener("DOMContentLoaded", () => {
  document.querySelectorAll("input.select-toggle").forEach((toggle) => {
    toggle.addEventListener("change", (event) => onSelectToggleChange(event));
  });
});
