// What an htmx action that the server refused says: htmx swaps nothing on a 4xx/5xx answer, so without
// this the button just did nothing (a request withdrawn meanwhile, a second approval). The server answers
// htmx requests with the JSON error shape; its message is shown in the page's alert area, as text.
document.addEventListener("htmx:responseError", function (event) {
  var xhr = event.detail.xhr;
  var message = "The server refused this (" + xhr.status + "); reload the page and try again.";
  try {
    var body = JSON.parse(xhr.responseText);
    if (body && body.error && body.error.message) {
      message = body.error.message;
    }
  } catch (ignored) {
    // not JSON: keep the general message
  }
  var area = document.getElementById("alerts");
  if (!area) {
    return;
  }
  var note = document.createElement("p");
  note.className = "error";
  note.textContent = message;
  area.replaceChildren(note);
  area.scrollIntoView({block: "nearest"});
});

// A form the server refused (a 422 or 409 page) lost what was typed: pages are sent with no-store, so the
// browser's Back loads the form again, empty. So, before a form is posted, its fields are kept in this
// tab's sessionStorage; the error page marks them for restoring and links back to the form's page; the
// next page holding a form with the same action gets them back, once, with the error page's message shown
// just above the form (it was only on the error page, a click away). Any other page drops them.
// Passwords, hidden fields (the CSRF token) and files are never kept.
var KEPT_FORM = "micromoves:form";
var RESTORE_FORM = "micromoves:restore";

function keepable(el) {
  return Boolean(el.name) && ["password", "hidden", "file", "submit", "button"].indexOf(el.type) < 0;
}

function keptFields(form) {
  var fields = [];
  Array.prototype.forEach.call(form.elements, function (el) {
    if (!keepable(el)) {
      return;
    }
    if (el.type === "checkbox" || el.type === "radio") {
      fields.push({name: el.name, value: el.value, checked: el.checked});
    } else if (el.tagName === "SELECT" && el.multiple) {
      fields.push({name: el.name, values: Array.prototype.map.call(el.selectedOptions, function (o) { return o.value; })});
    } else {
      fields.push({name: el.name, value: el.value});
    }
  });
  return fields;
}

function restoreFields(form, fields) {
  var used = {};
  fields.forEach(function (f) {
    // Fields of the same name are filled in the order they were kept.
    var same = Array.prototype.filter.call(form.elements, function (el) { return keepable(el) && el.name === f.name; });
    var el;
    if ("checked" in f) {
      el = same.filter(function (x) { return x.value === f.value; })[0];
      if (el) { el.checked = f.checked; }
      return;
    }
    el = same[used[f.name] || 0];
    used[f.name] = (used[f.name] || 0) + 1;
    if (!el) {
      return;
    }
    if (f.values) {
      Array.prototype.forEach.call(el.options, function (o) { o.selected = f.values.indexOf(o.value) >= 0; });
    } else {
      el.value = f.value;
    }
  });
}

document.addEventListener("submit", function (event) {
  var form = event.target;
  if (!(form instanceof HTMLFormElement) || form.method.toLowerCase() !== "post") {
    return;
  }
  try {
    sessionStorage.setItem(KEPT_FORM, JSON.stringify({
      action: form.getAttribute("action") || location.pathname,
      page: location.pathname + location.search,
      fields: keptFields(form),
    }));
  } catch (ignored) {
    // storage full or disabled: the form is sent all the same
  }
});

document.addEventListener("DOMContentLoaded", function () {
  var kept = null;
  try {
    kept = JSON.parse(sessionStorage.getItem(KEPT_FORM) || "null");
  } catch (ignored) {
    kept = null;
  }
  if (document.querySelector("[data-form-refused]")) {
    if (kept) {
      // What the server said goes back with the fields, to be shown beside the form it is about.
      var said = document.querySelector("p.error");
      if (said) {
        kept.error = said.textContent;
        try {
          sessionStorage.setItem(KEPT_FORM, JSON.stringify(kept));
        } catch (ignored) {
          // storage full or disabled: the fields come back without the message
        }
      }
      sessionStorage.setItem(RESTORE_FORM, "1");
      var back = document.getElementById("back-to-form");
      if (back && kept.page.charAt(0) === "/" && kept.page.charAt(1) !== "/") {  // this site only
        back.href = kept.page;
        back.hidden = false;
      }
    }
    return;
  }
  var restore = sessionStorage.getItem(RESTORE_FORM) === "1";
  sessionStorage.removeItem(RESTORE_FORM);
  sessionStorage.removeItem(KEPT_FORM);
  // Only on the very page the form was sent from: the same form elsewhere (another person's page) stays empty.
  if (!restore || !kept || kept.page !== location.pathname + location.search) {
    return;
  }
  var form = Array.prototype.filter.call(document.forms, function (f) {
    return (f.getAttribute("action") || location.pathname) === kept.action;
  })[0];
  if (!form) {
    return;
  }
  restoreFields(form, kept.fields);
  // Next to the form, what was wrong with it ("success criterion 2: text is empty") and what to do.
  var note = document.createElement("div");
  note.className = "card notice";
  note.id = "form-restored";
  note.setAttribute("role", "alert");
  if (typeof kept.error === "string" && kept.error) {
    var error = document.createElement("p");
    error.className = "error";
    error.id = "form-error";
    error.textContent = kept.error;
    note.appendChild(error);
  }
  var hint = document.createElement("p");
  hint.textContent = "What you typed is back: correct " + (kept.error ? "this" : "what the error said") + " and send it again.";
  note.appendChild(hint);
  form.parentNode.insertBefore(note, form);
});
