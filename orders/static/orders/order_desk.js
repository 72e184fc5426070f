/* The order desk (orders/admin.py): search boxes that answer as you type, and the line editor.
 *
 * No inline script and no inline handlers (the Content-Security-Policy allows neither): this file
 * finds its elements by their ids and data- attributes. Everything it does is a shortcut: without
 * it the search is a plain form, rows take an SKU, and the server shows the totals on saving.
 */
(function () {
  "use strict";

  var DELAY_MS = 200;

  function debounce(fn, ms) {
    var timer = null;
    return function () {
      var args = arguments;
      clearTimeout(timer);
      timer = setTimeout(function () { fn.apply(null, args); }, ms);
    };
  }

  function text(tag, className, content) {
    var node = document.createElement(tag);
    if (className) { node.className = className; }
    node.textContent = content;
    return node;
  }

  /* A search box with a list of matches under it: arrows move, Enter or a click chooses. */
  function autocomplete(input, describe, choose) {
    var list = document.getElementById(input.getAttribute("aria-controls"));
    var results = [];
    var active = -1;
    var asked = 0;

    function close() {
      list.hidden = true;
      list.textContent = "";
      input.setAttribute("aria-expanded", "false");
      results = [];
      active = -1;
    }

    function highlight(index) {
      var options = list.querySelectorAll("[role=option]");
      options.forEach(function (option, i) { option.setAttribute("aria-selected", i === index ? "true" : "false"); });
      active = index;
      if (options[index]) { input.setAttribute("aria-activedescendant", options[index].id); }
    }

    function pick(index) {
      var chosen = results[index];
      if (!chosen) { return; }
      close();
      choose(chosen);
    }

    function show(data) {
      list.textContent = "";
      results = data.results || [];
      if (!results.length) {
        list.appendChild(text("li", "desk-result-none", "No match."));
      }
      results.forEach(function (item, index) {
        var option = document.createElement("li");
        option.id = list.id + "-" + index;
        option.setAttribute("role", "option");
        option.className = "desk-result";
        describe(item).forEach(function (part) { option.appendChild(part); });
        option.addEventListener("mousedown", function (event) { event.preventDefault(); pick(index); });
        list.appendChild(option);
      });
      if (data.more) { list.appendChild(text("li", "desk-result-more", "More match: type more to narrow the list.")); }
      list.hidden = false;
      input.setAttribute("aria-expanded", "true");
      highlight(results.length ? 0 : -1);
    }

    var search = debounce(function () {
      var term = input.value.trim();
      if (term.length < 2) { close(); return; }
      var mine = ++asked;
      fetch(input.dataset.url + "?q=" + encodeURIComponent(term), {
        credentials: "same-origin",
        headers: { "Accept": "application/json", "X-Requested-With": "XMLHttpRequest" }
      }).then(function (response) {
        if (!response.ok) { throw new Error(response.status); }
        return response.json();
      }).then(function (data) {
        if (mine === asked) { show(data); }
      }).catch(function () {
        if (mine === asked) { show({ results: [] }); }
      });
    }, DELAY_MS);

    input.addEventListener("input", search);
    input.addEventListener("keydown", function (event) {
      if (event.key === "ArrowDown" && results.length) {
        event.preventDefault();
        highlight(Math.min(active + 1, results.length - 1));
      } else if (event.key === "ArrowUp" && results.length) {
        event.preventDefault();
        highlight(Math.max(active - 1, 0));
      } else if (event.key === "Enter" && !list.hidden && active >= 0) {
        event.preventDefault();
        pick(active);
      } else if (event.key === "Escape") {
        close();
      }
    });
    input.addEventListener("blur", function () { setTimeout(close, 150); });
  }

  /* "Add order": choosing a customer starts their draft. */
  function customerSearch() {
    var input = document.getElementById("desk-customer-search");
    var form = document.getElementById("desk-pick");
    var field = document.getElementById("desk-customer-id");
    if (!input || !form || !field) { return; }
    autocomplete(input, function (customer) {
      var parts = [text("strong", "desk-result-name", customer.name), text("span", "desk-result-detail", customer.email)];
      if (customer.phone) { parts.push(text("span", "desk-result-detail", customer.phone)); }
      return parts;
    }, function (customer) {
      input.value = customer.name;
      field.disabled = false;
      field.value = String(customer.id);
      form.submit();
    });
  }

  /* The line editor: the search adds a row (or one more of a product already there), and the
   * line totals, subtotal, shipping and total follow the quantities. */
  function lineEditor() {
    var editor = document.getElementById("desk-editor");
    var input = document.getElementById("desk-product-search");
    if (!editor || !input) { return; }
    var body = editor.querySelector("table.desk-lines tbody");
    var template = document.getElementById("desk-empty-row");
    var total = editor.querySelector("input[name=lines-TOTAL_FORMS]");
    var maximum = editor.querySelector("input[name=lines-MAX_NUM_FORMS]");
    var currency = editor.dataset.currency;
    var asked = 0;

    function money(value) {
      return value.toLocaleString("en-US", { minimumFractionDigits: 2, maximumFractionDigits: 2 }) + " " + currency;
    }

    function rows() { return Array.prototype.slice.call(body.querySelectorAll("tr.desk-line")); }
    function sku(row) { return row.querySelector("input.desk-sku"); }
    function quantity(row) { return row.querySelector("input.desk-quantity"); }

    function refresh() {
      var cents = 0;
      rows().forEach(function (row) {
        var qty = parseInt(quantity(row).value, 10);
        var cell = row.querySelector(".desk-line-total");
        var available = row.dataset.available === undefined ? null : parseInt(row.dataset.available, 10);
        row.classList.toggle("desk-short", available !== null && qty > available && !row.dataset.kept);
        if (row.dataset.price === undefined || !(qty > 0)) { cell.textContent = ""; return; }
        var lineCents = Math.round(parseFloat(row.dataset.price) * 100) * qty;
        cents += lineCents;
        cell.textContent = (lineCents / 100).toLocaleString("en-US", { minimumFractionDigits: 2 });
      });
      var subtotal = (cents / 100).toFixed(2);
      document.getElementById("desk-subtotal").textContent = money(cents / 100);
      var mine = ++asked;
      fetch(editor.dataset.shippingUrl + "?subtotal=" + encodeURIComponent(subtotal), {
        credentials: "same-origin", headers: { "Accept": "application/json" }
      }).then(function (response) { return response.ok ? response.json() : null; }).then(function (data) {
        if (data && mine === asked) {
          document.getElementById("desk-shipping").textContent = data.shipping;
          document.getElementById("desk-total").textContent = data.total;
        }
      }).catch(function () {});
    }

    function newRow() {
      var index = parseInt(total.value, 10);
      if (maximum && index >= parseInt(maximum.value, 10)) { return null; }
      var holder = document.createElement("tbody");
      holder.innerHTML = template.innerHTML.replace(/__prefix__/g, String(index));
      var row = holder.querySelector("tr");
      body.appendChild(row);
      total.value = String(index + 1);
      quantity(row).addEventListener("input", refresh);
      return row;
    }

    function fill(row, product) {
      row.dataset.price = product.price;
      row.dataset.available = String(product.available);
      row.querySelector(".desk-name").textContent = product.name;
      row.querySelector(".desk-price").textContent = product.price;
      row.querySelector(".desk-available").textContent = String(product.available);
      sku(row).value = product.sku;
    }

    function add(product) {
      var same = rows().filter(function (row) { return sku(row).value.trim().toUpperCase() === product.sku; })[0];
      if (same) {
        var qty = quantity(same);
        qty.value = String((parseInt(qty.value, 10) || 0) + 1);
        fill(same, product);
        refresh();
        qty.focus();
        return;
      }
      var row = rows().filter(function (row) { return !sku(row).value.trim(); })[0] || newRow();
      if (!row) { return; }
      fill(row, product);
      quantity(row).value = "1";
      refresh();
      input.value = "";
      quantity(row).focus();
      quantity(row).select();
    }

    autocomplete(input, function (product) {
      return [
        text("strong", "desk-result-name", product.name),
        text("span", "desk-result-detail", product.sku),
        text("span", "desk-result-detail", product.price_display),
        text("span", "desk-result-detail" + (product.available > 0 ? "" : " desk-warning"), product.available + " available")
      ];
    }, add);

    // On a placed order's editor (it asks for a reason) the rows already there hold their units
    // already: only added rows are checked against what is available.
    var placed = Boolean(editor.querySelector("textarea[name=reason]"));
    rows().forEach(function (row) {
      quantity(row).addEventListener("input", refresh);
      if (placed && sku(row).value) { row.dataset.kept = "1"; }
    });
    // Enter in the search box chooses a product; it never submits the form by accident.
    input.addEventListener("keydown", function (event) { if (event.key === "Enter") { event.preventDefault(); } });
    document.documentElement.classList.add("desk-js");
  }

  function start() {
    customerSearch();
    lineEditor();
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
