// The inspector's own script: the key (this tab's sessionStorage only), the headers of
// every htmx request, the tabs, and the filter forms. Everything else is htmx attributes.
(function () {
  "use strict";
  var KEY = "sandboxInspectorKey";
  var BUSINESS = "sandboxInspectorBusiness";
  var store = window.sessionStorage;

  function key() { return store.getItem(KEY) || ""; }
  function refresh() { htmx.trigger(document.body, "inspect:refresh"); }

  // Fragments of every status are shown: a refusal is a readable message, not a failure.
  // New rows answer clicks at once: no settle delay (no transitions here), during which
  // htmx has not yet read the attributes of what it swapped in.
  htmx.config.defaultSettleDelay = 0;
  htmx.config.responseHandling = [
    { code: "204", swap: false },
    { code: "...", swap: true, error: false },
  ];

  document.body.addEventListener("htmx:configRequest", function (event) {
    event.detail.headers["Authorization"] = "Bearer " + key();
    var business = store.getItem(BUSINESS);
    if (business) { event.detail.headers["X-Business-Id"] = business; }
  });

  // No key, or a panel out of sight: nothing to ask for (polls of hidden tabs wait).
  document.body.addEventListener("htmx:beforeRequest", function (event) {
    if (!key() || event.detail.elt.closest("[hidden]")) { event.preventDefault(); }
  });

  function open() {
    var opened = key() !== "";
    document.getElementById("app").hidden = !opened;
    document.getElementById("key-forget").hidden = !opened;
    document.getElementById("key-input").value = "";
    if (opened) { refresh(); }
  }

  // What another key or business must not see: every list and opened detail.
  function clear(lists) {
    document.querySelectorAll(".detail").forEach(function (detail) {
      detail.innerHTML = detail.dataset.hint;
    });
    if (lists) {
      document.querySelectorAll(".list, #account, #clock").forEach(function (list) {
        list.innerHTML = "";
      });
    }
  }

  document.getElementById("key-form").addEventListener("submit", function (event) {
    event.preventDefault();
    store.setItem(KEY, document.getElementById("key-input").value.trim());
    store.removeItem(BUSINESS);
    clear(true);
    open();
  });

  document.getElementById("key-forget").addEventListener("click", function () {
    store.removeItem(KEY);
    store.removeItem(BUSINESS);
    clear(true);
    open();
  });

  document.body.addEventListener("change", function (event) {
    if (event.target.id === "business") {
      store.setItem(BUSINESS, event.target.value);
      clear(false);
      refresh();
    }
  });

  document.querySelectorAll(".tab").forEach(function (tab) {
    tab.addEventListener("click", function () {
      document.querySelectorAll(".tab").forEach(function (other) {
        other.setAttribute("aria-selected", String(other === tab));
      });
      document.querySelectorAll(".panel").forEach(function (panel) {
        panel.hidden = panel.dataset.panel !== tab.dataset.tab;
      });
      refresh();
    });
  });

  // A filter's change reloads its list from the first page; a pager button moves the page.
  var pending = null;
  function filter(form, offset) {
    form.elements.offset.value = String(offset);
    htmx.trigger(form, "inspect:filter");
  }
  document.querySelectorAll("form.filters").forEach(function (form) {
    form.addEventListener("submit", function (event) { event.preventDefault(); });
    form.addEventListener("change", function () { filter(form, 0); });
    form.addEventListener("input", function (event) {
      if (event.target.tagName !== "INPUT") { return; }
      clearTimeout(pending);
      pending = setTimeout(function () { filter(form, 0); }, 400);
    });
  });
  document.body.addEventListener("click", function (event) {
    var button = event.target.closest("button[data-offset]");
    if (button) { filter(document.getElementById(button.dataset.form), button.dataset.offset); }
  });

  document.querySelectorAll(".detail").forEach(function (detail) {
    detail.dataset.hint = detail.innerHTML;
  });

  // After htmx has read the page (its own DOMContentLoaded listener runs first).
  document.addEventListener("DOMContentLoaded", function () { setTimeout(open, 0); });
})();
