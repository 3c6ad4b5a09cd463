/* atelier.js — progressive enhancement for the exercise widgets.
 *
 * Every <form data-exercise> works without this script (it is a plain form);
 * with it, answers are kept in localStorage under data-storage-key, can be
 * exported as Markdown, cleared and printed; the journey map draws its emotion
 * curve and the ROI calculator computes its result as the participant types.
 *
 * Plain ES5-style script: no modules, no build step, no dependencies.
 * Interface texts come from data-msg-* attributes written by the template.
 */
(function () {
  "use strict";

  var doc = document;
  var SVG_NS = "http://www.w3.org/2000/svg";
  doc.documentElement.classList.remove("no-js");
  doc.documentElement.classList.add("js");

  function each(list, fn) { Array.prototype.forEach.call(list, fn); }
  function msg(form, name, fallback) {
    var v = form.getAttribute("data-msg-" + name);
    return v === null ? (fallback || "") : v;
  }

  /* ---- Storage that never throws ------------------------------------------
   * localStorage can be missing or throw (file:// in some browsers, private
   * mode, disabled cookies, full quota): then we simply keep nothing. */
  var store = (function () {
    try {
      var s = window.localStorage;
      var probe = "atelier:probe";
      s.setItem(probe, "1");
      s.removeItem(probe);
      return s;
    } catch (e) {
      return null;
    }
  })();

  function load(key) {
    if (!store || !key) return {};
    try {
      var data = JSON.parse(store.getItem(key) || "{}");
      return data && typeof data === "object" ? data : {};
    } catch (e) {
      return {};
    }
  }

  function persist(key, data) {
    if (!store || !key) return false;
    try {
      if (Object.keys(data).length === 0) store.removeItem(key);
      else store.setItem(key, JSON.stringify(data));
      return true;
    } catch (e) {
      return false;
    }
  }

  /* ---- Reading and writing a form's answers ------------------------------- */
  function controls(form) {
    return form.querySelectorAll("input[name], textarea[name], select[name]");
  }

  function collect(form) {
    var data = {};
    each(controls(form), function (el) {
      if (el.type === "radio" || el.type === "checkbox") {
        if (el.checked) data[el.name] = el.value;
      } else if (el.value !== "") {
        data[el.name] = el.value;
      }
    });
    return data;
  }

  function apply(form, data) {
    each(controls(form), function (el) {
      var v = Object.prototype.hasOwnProperty.call(data, el.name) ? String(data[el.name]) : "";
      if (el.type === "radio" || el.type === "checkbox") el.checked = v !== "" && el.value === v;
      else el.value = v;
    });
    each(form.querySelectorAll("textarea"), grow);
    refresh(form);
  }

  /* Textareas grow with their content (so printed answers are not cut). */
  function grow(ta) {
    if (!ta.value) { ta.style.height = ""; return; }
    ta.style.height = "";
    var style = window.getComputedStyle(ta);
    var borders = parseFloat(style.borderTopWidth) + parseFloat(style.borderBottomWidth);
    if (ta.scrollHeight > ta.clientHeight) ta.style.height = (ta.scrollHeight + borders) + "px";
  }

  /* ---- Journey map: emotion curve -------------------------------------------
   * Stage columns have equal widths, so stage i sits at (i + 0.5) / n of the
   * width. Points and labels use percentages; the line and area live in an
   * inner SVG stretched over the same box (viewBox 0 0 100 100, no aspect
   * ratio) with a non-scaling stroke, so nothing depends on the pixel size. */
  function svgEl(name, attrs) {
    var el = doc.createElementNS(SVG_NS, name);
    for (var k in attrs) el.setAttribute(k, attrs[k]);
    return el;
  }

  function drawCurve(form) {
    var svg = form.querySelector("svg.journey-curve");
    if (!svg) return;
    var inputs = form.querySelectorAll("input[data-emotion]");
    var n = inputs.length;
    var old = svg.querySelector(".curve");
    if (old) svg.removeChild(old);
    if (!n) return;

    var points = [];
    each(inputs, function (input, i) {
      var v = parseFloat(String(input.value).replace(",", "."));
      if (!isFinite(v)) return;
      v = Math.min(5, Math.max(1, v));
      // level 5 at 10 % from the top, level 1 at 90 % (the guide lines)
      points.push({ x: ((i + 0.5) / n) * 100, y: 10 + (5 - v) * 20, v: v });
    });

    var g = svgEl("g", { "class": "curve" });
    if (points.length >= 2) {
      var inner = svgEl("svg", {
        viewBox: "0 0 100 100", preserveAspectRatio: "none",
        width: "100%", height: "100%", overflow: "visible"
      });
      var line = points.map(function (p) { return p.x.toFixed(2) + "," + p.y.toFixed(2); }).join(" ");
      var first = points[0], last = points[points.length - 1];
      inner.appendChild(svgEl("polygon", {
        "class": "curve-area",
        points: line + " " + last.x.toFixed(2) + ",100 " + first.x.toFixed(2) + ",100"
      }));
      inner.appendChild(svgEl("polyline", {
        "class": "curve-line", points: line, "vector-effect": "non-scaling-stroke"
      }));
      g.appendChild(inner);
    }
    points.forEach(function (p) {
      g.appendChild(svgEl("circle", { "class": "curve-point", cx: p.x + "%", cy: p.y + "%", r: 6 }));
      // Above the point, except at the top level, where it would cross the border.
      var label = svgEl("text", { "class": "curve-value", x: p.x + "%", y: p.y + "%", dy: p.v >= 4.5 ? "1.7em" : "-0.9em", "text-anchor": "middle" });
      label.textContent = String(p.v);
      g.appendChild(label);
    });
    svg.appendChild(g);
  }

  /* ---- ROI calculator ------------------------------------------------------- */
  function numberOf(form, name) {
    var el = form.querySelector('[data-roi="' + name + '"]');
    if (!el || el.value === "") return null;
    var v = Number(String(el.value).replace(",", "."));
    return isFinite(v) ? v : null;
  }

  function formatter(options) {
    var lang = doc.documentElement.lang || undefined;
    try {
      return new Intl.NumberFormat(lang, options).format;
    } catch (e) {
      return function (v) {
        return options.style === "percent" ? (v * 100).toFixed(0) + " %" : v.toFixed(2);
      };
    }
  }

  function computeRoi(form) {
    var box = form.querySelector(".roi-result");
    if (!box) return;
    var out = function (name) { return form.querySelector('[data-roi-out="' + name + '"]'); };
    var currency = form.getAttribute("data-currency") || "EUR";
    var money = formatter({ style: "currency", currency: currency });
    var percent = formatter({ style: "percent", maximumFractionDigits: 1, signDisplay: "exceptZero" });

    var hours = numberOf(form, "hours"), hourly = numberOf(form, "hourly");
    var spent = numberOf(form, "spent"), revenue = numberOf(form, "revenue");
    var anyCost = hours !== null || hourly !== null || spent !== null;
    var cost = (hours || 0) * (hourly || 0) + (spent || 0);

    var state, roi = "—", sentence;
    if (!anyCost || revenue === null) {
      state = "empty";
      sentence = msg(form, "roi-empty");
    } else if (cost <= 0) {
      state = "empty";              // guard against a division by zero
      sentence = msg(form, "roi-no-cost");
    } else {
      var ratio = (revenue - cost) / cost;
      var perEuro = money(revenue / cost);
      roi = percent(ratio);
      if (Math.abs(ratio) < 0.0005) {
        state = "even";
        sentence = msg(form, "roi-even");
      } else if (ratio > 0) {
        state = "positive";
        sentence = msg(form, "roi-positive").replace("{ratio}", perEuro);
      } else {
        state = "negative";
        sentence = msg(form, "roi-negative").replace("{ratio}", perEuro);
      }
    }
    if (out("cost")) out("cost").textContent = anyCost ? money(cost) : "—";
    if (out("roi")) out("roi").textContent = roi;
    if (out("sentence")) out("sentence").textContent = sentence;
    box.setAttribute("data-state", state);
  }

  /* What is derived from the answers (curve, ROI). */
  function refresh(form) {
    var kind = form.getAttribute("data-kind");
    if (kind === "journey-map") drawCurve(form);
    if (kind === "roi") computeRoi(form);
  }

  /* ---- Markdown export ------------------------------------------------------ */
  function cell(text) {
    return String(text).trim().replace(/\|/g, "\\|").replace(/\r?\n/g, "<br>");
  }

  function answerOf(field) {
    var checked = field.querySelector("input:checked");
    if (checked) return checked.value;
    var radios = field.querySelector('input[type="radio"]');
    if (radios) return "";
    var el = field.querySelector("textarea, input, select");
    var value = el ? String(el.value).trim() : "";
    var unit = field.querySelector(".unit");          // ROI inputs: "12 h", "35 €/h"
    return value && unit ? value + " " + unit.textContent.trim() : value;
  }

  function toMarkdown(form) {
    var empty = "_" + msg(form, "empty", "—") + "_";
    var lines = ["# " + (form.getAttribute("data-title") || form.getAttribute("data-exercise")), ""];

    if (form.getAttribute("data-kind") === "journey-map") {
      var stages = [];
      each(form.querySelectorAll("th[data-stage]"), function (th) { stages.push(cell(th.getAttribute("data-stage"))); });
      lines.push("| | " + stages.join(" | ") + " |");
      lines.push("|---|" + stages.map(function () { return "---"; }).join("|") + "|");
      each(form.querySelectorAll("tr[data-row]"), function (tr) {
        var cells = [];
        each(tr.querySelectorAll("textarea, input"), function (el) { cells.push(cell(el.value)); });
        lines.push("| **" + cell(tr.getAttribute("data-label")) + "** | " + cells.join(" | ") + " |");
      });
      lines.push("");
    } else {
      each(form.querySelectorAll("[data-label]"), function (field) {
        var answer = answerOf(field);
        lines.push("## " + field.getAttribute("data-label"), "", answer || empty, "");
      });
    }

    if (form.getAttribute("data-kind") === "roi") {
      var get = function (name) {
        var el = form.querySelector('[data-roi-out="' + name + '"]');
        return el ? el.textContent.trim() : "";
      };
      var label = form.querySelector(".roi-main-label");
      lines.push("## " + (label ? label.textContent.trim() : "ROI"), "", "**" + get("roi") + "** — " + get("sentence"), "");
    }
    return lines.join("\n").replace(/\n{3,}/g, "\n\n").trim() + "\n";
  }

  function download(filename, text) {
    var blob = new Blob([text], { type: "text/markdown;charset=utf-8" });
    var url = URL.createObjectURL(blob);
    var a = doc.createElement("a");
    a.href = url;
    a.download = filename;
    a.style.display = "none";
    doc.body.appendChild(a);
    a.click();
    setTimeout(function () {
      URL.revokeObjectURL(url);
      doc.body.removeChild(a);
    }, 1000);
  }

  /* ---- Printing one exercise -------------------------------------------------
   * Marks the path from <body> to the form; the print stylesheet hides every
   * sibling along it, so only this worksheet is printed. */
  function printOne(form) {
    var marked = [];
    for (var el = form.parentElement; el && el !== doc.body; el = el.parentElement) {
      el.classList.add("print-path");
      marked.push(el);
    }
    doc.body.classList.add("print-single");
    form.classList.add("print-target");
    var done = function () {
      doc.body.classList.remove("print-single");
      form.classList.remove("print-target");
      marked.forEach(function (m) { m.classList.remove("print-path"); });
      window.removeEventListener("afterprint", done);
    };
    window.addEventListener("afterprint", done);
    window.print();
    setTimeout(done, 1000); // browsers whose print() returns before printing fire afterprint; others need this
  }

  /* ---- Wiring ------------------------------------------------------------------ */
  var forms = doc.querySelectorAll("form[data-exercise]");

  function siblingsOf(form) {
    var key = form.getAttribute("data-storage-key");
    return Array.prototype.filter.call(forms, function (f) {
      return f !== form && !f.hasAttribute("data-print") && f.getAttribute("data-storage-key") === key;
    });
  }

  function setStatus(form, text, warn) {
    var status = form.querySelector("[data-status]");
    if (!status) return;
    status.textContent = text;
    status.classList.toggle("is-warning", !!warn);
  }

  /* The same exercise can appear twice on a page (embedded and listed).
   * atelier already gives each copy its own ids; as a fallback, a copy whose
   * ids still collide is renamed here, so its labels point at its own
   * controls. */
  var seen = {};
  function dedupeIds(form) {
    var id = form.getAttribute("data-exercise");
    seen[id] = (seen[id] || 0) + 1;
    if (seen[id] === 1) return;
    var probe = form.id ? form : form.querySelector("[id]");
    if (!probe || doc.getElementById(probe.id) === probe) return; // its ids are already its own
    var suffix = "--" + seen[id];
    if (form.id) form.id += suffix;
    each(form.querySelectorAll("[id]"), function (el) { el.id += suffix; });
    each(form.querySelectorAll("label[for]"), function (el) { el.htmlFor += suffix; });
    each(form.querySelectorAll("output[for]"), function (el) {
      el.setAttribute("for", el.getAttribute("for").split(/\s+/).map(function (f) { return f + suffix; }).join(" "));
    });
  }

  each(forms, function (form) {
    var key = form.getAttribute("data-storage-key");
    var blank = form.hasAttribute("data-print"); // a blank worksheet of the print page
    dedupeIds(form);

    if (!blank) {
      apply(form, load(key));
      if (store) setStatus(form, msg(form, "saved"));
      else setStatus(form, msg(form, "unavailable"), true);
    } else {
      refresh(form);
    }

    form.addEventListener("submit", function (e) { e.preventDefault(); });

    var onChange = function (e) {
      if (e.target && e.target.tagName === "TEXTAREA") grow(e.target);
      refresh(form);
      if (blank) return;
      var data = collect(form);
      if (!persist(key, data) && store) setStatus(form, msg(form, "unavailable"), true);
      siblingsOf(form).forEach(function (other) { apply(other, data); });
    };
    form.addEventListener("input", onChange);
    form.addEventListener("change", onChange);

    form.addEventListener("click", function (e) {
      var button = e.target.closest ? e.target.closest("[data-action]") : null;
      if (!button || !form.contains(button)) return;
      var action = button.getAttribute("data-action");
      if (action === "export") {
        download((form.getAttribute("data-exercise") || "exercise") + ".md", toMarkdown(form));
      } else if (action === "clear") {
        if (!window.confirm(msg(form, "confirm"))) return;
        apply(form, {});
        persist(key, {});
        siblingsOf(form).forEach(function (other) { apply(other, {}); });
      } else if (action === "print") {
        printOne(form);
      }
    });
  });

  /* Answers changed in another tab: show them here too. */
  window.addEventListener("storage", function (e) {
    each(forms, function (form) {
      if (!form.hasAttribute("data-print") && e.key === form.getAttribute("data-storage-key")) {
        apply(form, load(e.key));
      }
    });
  });

  /* "Print this page" on the print view. */
  each(doc.querySelectorAll('[data-action="print-page"]'), function (button) {
    button.addEventListener("click", function () { window.print(); });
  });
})();
