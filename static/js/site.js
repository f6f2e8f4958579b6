// Menus work without this file (native <details> disclosures). With it, opening one
// drop-down closes the others, Escape closes the open one and returns focus to its
// button, and a click elsewhere or tabbing out of it closes them (an open panel would
// otherwise cover what the keyboard focuses next).
(function () {
  "use strict";
  var menus = Array.prototype.slice.call(document.querySelectorAll(".menu__disclosure"));
  if (!menus.length) { return; }

  function closeAll(except) {
    menus.forEach(function (menu) {
      if (menu !== except) { menu.open = false; }
    });
  }

  menus.forEach(function (menu) {
    menu.addEventListener("toggle", function () {
      if (menu.open) { closeAll(menu); }
    });
    menu.addEventListener("focusout", function (event) {
      // relatedTarget is null for a click on the panel's text; the click handler below
      // covers clicks outside.
      if (menu.open && event.relatedTarget && !menu.contains(event.relatedTarget)) {
        menu.open = false;
      }
    });
    menu.addEventListener("keydown", function (event) {
      if (event.key === "Escape" && menu.open) {
        menu.open = false;
        menu.querySelector("summary").focus();
      }
    });
  });

  document.addEventListener("click", function (event) {
    if (!event.target.closest(".menu__disclosure")) { closeAll(null); }
  });
}());
