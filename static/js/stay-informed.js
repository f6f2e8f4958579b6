/*
 * Stay Informed: sends the sign-up form in the background and shows the answer in place.
 * Without JavaScript the form posts normally and the server redirects to a "check your
 * inbox" page; with it, the reader stays where they were. Strings come from the page.
 */
(function () {
  "use strict";

  function showStatus(form, text, isError) {
    var status = form.querySelector(".signup-form__status");
    if (!status) {
      return;
    }
    status.textContent = text;
    status.classList.toggle("signup-form__status--error", Boolean(isError));
  }

  function firstError(errors) {
    var names = Object.keys(errors || {});
    for (var i = 0; i < names.length; i += 1) {
      if (errors[names[i]] && errors[names[i]].length) {
        return errors[names[i]][0];
      }
    }
    return "";
  }

  function enhance(form) {
    form.addEventListener("submit", function (event) {
      if (!window.fetch || !window.FormData) {
        return;
      }
      event.preventDefault();
      var button = form.querySelector("button[type=submit]");
      if (button) {
        button.disabled = true;
      }
      fetch(form.action, {
        method: "POST",
        body: new FormData(form),
        credentials: "same-origin",
        headers: { Accept: "application/json" },
      })
        .then(function (response) {
          return response.json().then(function (data) {
            return { ok: response.ok, data: data };
          });
        })
        .then(function (result) {
          if (result.ok && result.data.ok) {
            var fields = form.querySelectorAll("p, fieldset");
            for (var i = 0; i < fields.length; i += 1) {
              if (!fields[i].classList.contains("signup-form__status")) {
                fields[i].hidden = true;
              }
            }
            showStatus(form, result.data.message, false);
            return;
          }
          showStatus(
            form,
            result.data.message || firstError(result.data.errors) || form.dataset.errorMessage,
            true
          );
          if (button) {
            button.disabled = false;
          }
        })
        .catch(function () {
          showStatus(form, form.dataset.errorMessage, true);
          if (button) {
            button.disabled = false;
          }
        });
    });
  }

  function init() {
    var forms = document.querySelectorAll("form[data-stay-informed]");
    for (var i = 0; i < forms.length; i += 1) {
      enhance(forms[i]);
    }
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", init);
  } else {
    init();
  }
})();
