/* The hero image's focal point: click the image to set both percentages. */
(function () {
  "use strict";

  function setUp(xInput) {
    var form = xInput.form;
    var yInput = form.querySelector('input[data-focal-axis="y"][data-focal-image="' + xInput.dataset.focalImage + '"]');
    var fileInput = form.querySelector('input[type="file"][name="' + xInput.dataset.focalImage + '"]');
    var current = fileInput && fileInput.closest("p, div") && fileInput.closest("p, div").querySelector("a[href]");
    if (!yInput || !current) return;
    var frame = document.createElement("div");
    frame.className = "focal-point";
    var image = document.createElement("img");
    image.src = current.href;
    image.alt = "";
    var marker = document.createElement("span");
    marker.className = "focal-point__marker";
    frame.appendChild(image);
    frame.appendChild(marker);
    xInput.closest(".form-row, .fieldBox, div").after(frame);

    function place() {
      marker.style.left = (Number(xInput.value) || 0) + "%";
      marker.style.top = (Number(yInput.value) || 0) + "%";
    }
    image.addEventListener("click", function (event) {
      var box = image.getBoundingClientRect();
      xInput.value = Math.round(((event.clientX - box.left) / box.width) * 100);
      yInput.value = Math.round(((event.clientY - box.top) / box.height) * 100);
      place();
    });
    xInput.addEventListener("input", place);
    yInput.addEventListener("input", place);
    place();
  }

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll('input[data-focal-axis="x"]').forEach(setUp);
  });
})();
