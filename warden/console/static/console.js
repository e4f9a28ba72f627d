/* Warden console: keyboard shortcuts, reveal buttons and the statement-of-reasons preview.
   Served from /console/static (the Content-Security-Policy allows no inline script). */
(function () {
  "use strict";

  var page = document.body.getAttribute("data-page");

  function isTyping(el) {
    if (!el) return false;
    var tag = el.tagName;
    if (tag === "INPUT" && /^(checkbox|radio|button|submit)$/.test(el.type)) return false;  /* nothing typed */
    return tag === "INPUT" || tag === "TEXTAREA" || tag === "SELECT" || el.isContentEditable;
  }

  function reveal(id) {
    var box = document.getElementById(id);
    if (box) box.classList.remove("blurred");
    if (id === "content") {  // the case's copies of a removed post, and that post, with it
      document.querySelectorAll("#copies .blur-box.blurred").forEach(function (b) { b.classList.remove("blurred"); });
    }
    document.querySelectorAll('[data-reveal="' + id + '"]').forEach(function (b) { b.remove(); });
  }

  document.querySelectorAll("[data-reveal]").forEach(function (button) {
    button.addEventListener("click", function () { reveal(button.getAttribute("data-reveal")); });
  });

  function toggleShortcuts() {
    var help = document.getElementById("shortcuts");
    if (help) { help.open = !help.open; if (help.open) help.scrollIntoView({block: "nearest"}); }
  }

  /* --- the queue: j/k move a selection, Enter or o opens it, c claims it --- */
  var rows = Array.prototype.slice.call(document.querySelectorAll("tr.case-row"));
  var selected = -1;

  function select(index) {
    if (!rows.length) return;
    selected = Math.max(0, Math.min(rows.length - 1, index));
    rows.forEach(function (row, i) { row.classList.toggle("selected", i === selected); });
    rows[selected].scrollIntoView({block: "nearest"});
    var link = rows[selected].querySelector("a");
    if (link) link.focus({preventScroll: true});
  }

  rows.forEach(function (row, i) {
    row.addEventListener("click", function (event) {
      if (event.target.closest("a, button, form")) return;
      select(i);
    });
  });

  /* --- bulk selection: tick cases (x on the selected row), or every case on the page --- */
  var picks = Array.prototype.slice.call(document.querySelectorAll("input.pick"));
  var selectPage = document.getElementById("select-page");
  var pickedCount = document.getElementById("selected-count");

  function countPicked() {
    var n = picks.filter(function (box) { return box.checked; }).length;
    if (pickedCount) pickedCount.textContent = n + " selected";
    if (selectPage) {
      selectPage.checked = n > 0 && n === picks.length;
      selectPage.indeterminate = n > 0 && n < picks.length;
    }
  }

  picks.forEach(function (box) { box.addEventListener("change", countPicked); });
  if (selectPage) {
    selectPage.addEventListener("change", function () {
      picks.forEach(function (box) { box.checked = selectPage.checked; });
      countPicked();
    });
  }
  countPicked();

  /* --- the case page: pick an action, write the reason, Ctrl+Enter --- */
  var form = document.getElementById("decision-form");
  var reason = document.getElementById("reason");
  var preview = document.getElementById("statement-preview");
  var timer = null;

  function refreshPreview() {
    if (!form || !preview) return;
    var data = new FormData(form);  /* csrf_token, action, label, reason */
    if (!data.get("action")) data.set("action", "remove");
    fetch(form.getAttribute("data-preview"), {method: "POST", body: data, credentials: "same-origin"})
      .then(function (response) { return response.ok ? response.text() : null; })
      .then(function (html) {
        if (html === null) return;
        var parsed = new DOMParser().parseFromString(html, "text/html");
        preview.replaceChildren.apply(preview, Array.prototype.slice.call(parsed.body.childNodes));
      })
      .catch(function () { /* the preview is a convenience: the decision itself does not depend on it */ });
  }

  function schedulePreview() {
    if (timer) clearTimeout(timer);
    timer = setTimeout(refreshPreview, 250);
  }

  if (form) {
    form.addEventListener("change", schedulePreview);
    if (reason) reason.addEventListener("input", schedulePreview);
  }

  function chooseAction(key) {
    if (!form) return false;
    var radio = form.querySelector('input[name="action"][data-key="' + key + '"]');
    if (!radio) return false;
    radio.checked = true;
    form.querySelectorAll("label.action").forEach(function (label) {
      label.classList.toggle("chosen", label.contains(radio));
    });
    schedulePreview();
    if (reason) reason.focus();
    return true;
  }

  function go(attribute) {
    var head = document.getElementById("case");
    var target = head && head.getAttribute(attribute);
    if (target) window.location.assign(target);
  }

  document.addEventListener("keydown", function (event) {
    var target = event.target;
    if (isTyping(target)) {
      if (event.key === "Enter" && (event.ctrlKey || event.metaKey) && form && form.contains(target)) {
        event.preventDefault();
        form.requestSubmit();
      } else if (event.key === "Escape") {
        target.blur();
      }
      return;
    }
    if (event.ctrlKey || event.metaKey || event.altKey) return;
    var key = event.key;
    if (key === "?") { toggleShortcuts(); event.preventDefault(); return; }
    if (page === "queue") {
      if (key === "j") { select(selected + 1); event.preventDefault(); }
      else if (key === "k") { select(selected - 1); event.preventDefault(); }
      else if ((key === "Enter" || key === "o") && selected >= 0) {
        window.location.assign(rows[selected].getAttribute("data-href")); event.preventDefault();
      } else if (key === "x" && selected >= 0) {
        var box = rows[selected].querySelector("input.pick");
        if (box) { box.checked = !box.checked; countPicked(); }
      } else if (key === "c" && selected >= 0) {
        var claim = rows[selected].querySelector('form[action$="/claim"]');
        if (claim) claim.requestSubmit();
      }
      return;
    }
    if (page === "case") {
      if (key === "j") { go("data-next"); }
      else if (key === "k") { go("data-prev"); }
      else if (key === "q") { window.location.assign("/console/queue"); }
      else if (key === "v") { reveal("content"); }
      else if (key === "c") { var c = document.getElementById("claim-form"); if (c) c.requestSubmit(); }
      else if (key === "e") { var note = document.getElementById("escalate-note"); if (note) { note.focus(); event.preventDefault(); } }
      else if (chooseAction(key)) { event.preventDefault(); }
    }
  });
})();
