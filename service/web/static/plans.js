/* The plan editor: add and remove rows in the page, without a reload (the buttons post the form when
   this script does not run). Names, ids and labels are renumbered so the form posts rows 0, 1, 2 … */
(function () {
  "use strict";
  var form = document.querySelector("[data-plan-form]");
  if (!form) {
    return;
  }
  var live = form.querySelector("[data-announce]");
  var FIELDS = "input:not([type=hidden]), select, textarea";

  function isIndex(part) {
    return /^[0-9]+$/.test(part);
  }
  function pattern(path) {
    return path.split(".").map(function (part) { return isIndex(part) ? "*" : part; }).join(".");
  }
  function dashed(path) {
    return "f-" + path.split(".").join("-");
  }
  function literal(text) {
    return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
  }
  function rowsOf(list) {
    var holder = list.querySelector("[data-rows]");
    return Array.prototype.filter.call(holder.children, function (el) { return el.hasAttribute("data-row"); });
  }
  function own(row, selector) {
    return Array.prototype.filter.call(row.querySelectorAll(selector), function (el) {
      return el.closest("[data-row]") === row;
    });
  }
  function rename(root, oldPath, newPath) {
    var dotted = new RegExp("(?<![A-Za-z0-9_])" + literal(oldPath) + "(?=[.:]|$)", "g");
    var ids = new RegExp("(?<![A-Za-z0-9_])" + literal(dashed(oldPath)) + "(?=-|$|\\s)", "g");
    var nodes = [root].concat(Array.prototype.slice.call(root.querySelectorAll("*")));
    nodes.forEach(function (el) {
      ["name", "data-path", "data-list", "value"].forEach(function (attr) {
        var value = el.getAttribute(attr);
        if (value && (attr !== "value" || el.getAttribute("name") === "action")) {
          el.setAttribute(attr, value.replace(dotted, newPath));
        }
      });
      ["id", "for", "aria-describedby", "aria-labelledby", "href"].forEach(function (attr) {
        var value = el.getAttribute(attr);
        if (value) {
          el.setAttribute(attr, value.replace(ids, dashed(newPath)));
        }
      });
    });
  }
  function renumber(list) {
    var listPath = list.getAttribute("data-list");
    rowsOf(list).forEach(function (row, index) {
      var newPath = listPath + "." + index;
      var oldPath = row.getAttribute("data-path");
      if (oldPath !== newPath) {
        rename(row, oldPath, newPath);
      }
      own(row, "[data-number]").forEach(function (el) { el.textContent = String(index + 1); });
      own(row, "button[name=action][value^='remove:']").forEach(function (button) {
        button.value = "remove:" + listPath + ":" + index;
      });
    });
  }
  function say(list, key, number) {
    var label = (list.getAttribute("data-row-label") || "").replace("{n}", String(number));
    var text = (list.getAttribute(key) || "").replace("{row}", label);
    if (live) {
      live.textContent = "";
      window.setTimeout(function () { live.textContent = text; }, 50);
    }
  }
  function listAt(path) {
    return Array.prototype.find.call(form.querySelectorAll("[data-list]"), function (el) {
      return el.getAttribute("data-list") === path;
    });
  }
  function add(path) {
    var list = listAt(path);
    var template = Array.prototype.find.call(form.querySelectorAll("template[data-template]"), function (el) {
      return el.getAttribute("data-template") === pattern(path);
    });
    if (!list || !template) {
      return false;
    }
    var html = template.innerHTML;
    var numbers = path.split(".").filter(isIndex);
    numbers.forEach(function (number, k) { html = html.split("§" + k).join(number); });
    var index = rowsOf(list).length;
    html = html.split("§" + numbers.length).join(String(index));
    var holder = document.createElement("div");
    holder.innerHTML = html;
    var row = holder.querySelector("[data-row]");
    list.querySelector("[data-rows]").appendChild(row);
    renumber(list);
    var first = row.querySelector(FIELDS);
    (first || row).focus();
    say(list, "data-added", index + 1);
    return true;
  }
  function remove(path, index) {
    var list = listAt(path);
    var rows = list ? rowsOf(list) : [];
    if (!rows[index]) {
      return false;
    }
    rows[index].remove();
    renumber(list);
    var left = rowsOf(list);
    var next = left[index] || left[index - 1];
    var target = next ? next.querySelector(FIELDS) : list.querySelector(".plan-rows__add");
    (target || list).focus();
    say(list, "data-removed", index + 1);
    return true;
  }
  form.addEventListener("click", function (event) {
    var button = event.target.closest("button[name=action]");
    if (!button) {
      return;
    }
    var value = button.value;
    if (value.indexOf("add:") === 0 && add(value.slice(4))) {
      event.preventDefault();
    } else if (value.indexOf("remove:") === 0) {
      var colon = value.lastIndexOf(":");
      if (remove(value.slice(7, colon), parseInt(value.slice(colon + 1), 10))) {
        event.preventDefault();
      }
    }
  });
})();
