// One click per trial: after the first click the buttons are disabled so a double click
// cannot post twice; keys 1-3 pick the matching picture.
(function () {
  var form = document.getElementById("trial-form");
  if (!form) return;
  var sent = false;
  form.addEventListener("submit", function (event) {
    if (sent) { event.preventDefault(); return; }
    sent = true;
    var chosen = event.submitter;
    setTimeout(function () {
      form.querySelectorAll("button").forEach(function (b) { if (b !== chosen) b.disabled = true; });
    }, 0);
  });
  document.addEventListener("keydown", function (event) {
    var button = form.querySelector('button[data-key="' + event.key + '"]');
    if (button && !sent) button.click();
  });
})();
