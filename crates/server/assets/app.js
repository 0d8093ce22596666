// Keyboard shortcuts for reviewers. j/k move through a queue, o or Enter
// open the selected case, d/r/e submit a decision on a case page, a opens
// the appeals queue, q the review queue. Keys typed into fields are ignored.
(function () {
  "use strict";
  function rows() { return Array.prototype.slice.call(document.querySelectorAll("tr.row")); }
  var selected = -1;
  function select(i) {
    var r = rows();
    if (!r.length) return;
    selected = Math.max(0, Math.min(r.length - 1, i));
    r.forEach(function (row, n) { row.classList.toggle("selected", n === selected); });
    r[selected].scrollIntoView({ block: "nearest" });
  }
  document.addEventListener("click", function (ev) {
    var row = ev.target.closest && ev.target.closest("tr.row");
    if (row && !ev.target.closest("a")) window.location = row.getAttribute("data-href");
  });
  document.addEventListener("keydown", function (ev) {
    var t = ev.target;
    if (ev.ctrlKey || ev.metaKey || ev.altKey) return;
    if (t && (t.tagName === "INPUT" || t.tagName === "TEXTAREA" || t.tagName === "SELECT")) return;
    var key = ev.key;
    if (key === "j") { select(selected + 1); ev.preventDefault(); }
    else if (key === "k") { select(selected - 1); ev.preventDefault(); }
    else if ((key === "o" || key === "Enter") && selected >= 0) {
      window.location = rows()[selected].getAttribute("data-href");
    } else if (key === "a") { window.location = "/appeals"; }
    else if (key === "q") { window.location = "/queue"; }
    else {
      var button = document.querySelector('#decide button[data-key="' + key + '"]');
      if (button) { ev.preventDefault(); button.click(); }
    }
  });
})();
