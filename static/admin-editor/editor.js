/* The admin's rich-text editor: TinyMCE on every textarea[data-rich-text].
 *
 * The allowed elements come from the server (charhar/widgets.py builds them from the
 * sanitizer's lists), so the editor offers and keeps only what will be stored. Pasted Word
 * and Google Docs markup is tidied here as it arrives (the server tidies it again on save).
 */
(function () {
  "use strict";

  var OFFICE_PREFIXES = /^(o|w|v|st1|m):/i;
  var BOLD = /font-weight\s*:\s*(bold|[6-9]00)/i;
  var ITALIC = /font-style\s*:\s*italic/i;
  var NUMBERED = /^\s*(\d+|[a-z]|[ivxlc]+)[.)]/i;

  function unwrap(node) {
    var parent = node.parentNode;
    while (node.firstChild) parent.insertBefore(node.firstChild, node);
    parent.removeChild(node);
  }

  function rename(node, tag) {
    var replacement = node.ownerDocument.createElement(tag);
    while (node.firstChild) replacement.appendChild(node.firstChild);
    node.parentNode.replaceChild(replacement, node);
    return replacement;
  }

  function tidyOffice(html) {
    var doc = new DOMParser().parseFromString("<body>" + html + "</body>", "text/html");
    var body = doc.body;
    body.querySelectorAll("style, script, meta, link, title, xml").forEach(function (n) { n.remove(); });
    var walker = doc.createTreeWalker(body, NodeFilter.SHOW_COMMENT);
    var comments = [];
    while (walker.nextNode()) comments.push(walker.currentNode);
    comments.forEach(function (n) { n.remove(); });
    Array.prototype.slice.call(body.querySelectorAll("*")).forEach(function (node) {
      if (!node.parentNode) return;
      var tag = node.tagName.toLowerCase();
      var style = node.getAttribute("style") || "";
      if (OFFICE_PREFIXES.test(tag)) {
        unwrap(node);
      } else if (tag === "b" && /^docs-internal-guid/.test(node.id)) {
        unwrap(node);
      } else if (tag === "span" && /mso-list\s*:\s*ignore/i.test(style)) {
        node.remove();
      } else if (tag === "h1") {
        rename(node, "h2");
      } else if (tag === "span" && (BOLD.test(style) || ITALIC.test(style))) {
        var outer = rename(node, BOLD.test(style) ? "strong" : "em");
        if (BOLD.test(style) && ITALIC.test(style)) {
          var inner = doc.createElement("em");
          while (outer.firstChild) inner.appendChild(outer.firstChild);
          outer.appendChild(inner);
        }
      }
    });
    // Word's list paragraphs become real lists.
    var list = null;
    Array.prototype.slice.call(body.children).forEach(function (node) {
      var isItem = node.tagName === "P" &&
        (/MsoListParagraph/i.test(node.className) || /mso-list/i.test(node.getAttribute("style") || ""));
      if (!isItem) { list = null; return; }
      if (!list) {
        list = doc.createElement(NUMBERED.test(node.textContent) ? "ol" : "ul");
        node.parentNode.insertBefore(list, node);
      }
      list.appendChild(rename(node, "li"));
    });
    body.querySelectorAll("[class], [style], [id]").forEach(function (node) {
      if (node.tagName !== "FIGURE") node.removeAttribute("class");
      node.removeAttribute("style");
      node.removeAttribute("id");
    });
    return body.innerHTML;
  }

  function init(textarea) {
    var config = JSON.parse(textarea.getAttribute("data-rich-text"));
    window.tinymce.init({
      target: textarea,
      promotion: false,
      branding: false,
      menubar: false,
      height: 480,
      plugins: "autolink link lists image table code",
      toolbar: "undo redo | blocks | bold italic | bullist numlist blockquote | link image table | removeformat code",
      block_formats: config.block_formats,
      valid_elements: config.valid_elements,
      valid_styles: {},
      invalid_styles: "*",
      entity_encoding: "raw",
      convert_urls: false,
      image_caption: true,
      image_dimensions: true,
      image_description: true,
      paste_data_images: false,
      table_use_colgroups: false,
      table_default_attributes: {},
      table_default_styles: {},
      table_appearance_options: false,
      table_advtab: false,
      table_cell_advtab: false,
      table_row_advtab: false,
      link_default_protocol: "https",
      link_assume_external_targets: true,
      link_target_list: false,
      paste_preprocess: function (editor, args) { args.content = tidyOffice(args.content); },
      setup: function (editor) {
        // The admin form posts the textarea: keep it current for every way of saving.
        editor.on("change input undo redo", function () { editor.save(); });
      },
    });
  }

  window.charharTidyOffice = tidyOffice;
  document.addEventListener("DOMContentLoaded", function () {
    if (!window.tinymce) return;
    document.querySelectorAll("textarea[data-rich-text]").forEach(init);
  });
})();
