// Menus work without this file (native <details> disclosures). With it, opening one
// drop-down closes the others, Escape closes the open one and returns focus to its
// button, and a click elsewhere closes them all.
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
