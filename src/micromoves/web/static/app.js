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
