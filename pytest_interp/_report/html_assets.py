"""The HTML report's stylesheet and its one inline script (filters by claim and axis values).

The script reads the data block the page embeds as JSON and never writes markup from it
(only `textContent`); the page's Content-Security-Policy allows exactly this script by hash.
"""

STYLE = """
:root{font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:#1d1d1f;background:#fff}
body{margin:0 auto;max-width:1200px;padding:16px 24px}h1{font-size:1.4em;margin:.2em 0}
h2.claim-name{font-size:1.05em;font-family:ui-monospace,Menlo,Consolas,monospace;word-break:break-all;margin:.1em 0}
h4{margin:.6em 0 .3em;font-size:.95em}.muted,.meta{color:#666;font-size:.9em}
.doc{white-space:pre-wrap;margin:.3em 0;font-style:italic}
section.claim{border-top:1px solid #ddd;padding:10px 0 14px}
.panels{display:flex;flex-wrap:wrap;gap:18px}.panel h4{margin:.2em 0}
table{border-collapse:collapse}
#baseline td,#baseline th{padding:2px 8px;text-align:left;font-size:.9em}
tr.change-regression,tr.change-missing{background:#fde2e1;font-weight:600}tr.change-improvement{background:#e3f4e1}
table.heat th{font-weight:500;font-size:.85em;padding:2px 6px;text-align:right}
table.heat thead th{text-align:center}
td.cell{width:58px;height:38px;text-align:center;border:2px solid #fff;border-radius:4px;cursor:default}
td.cell .sym{display:block;font-size:1.1em;line-height:1.1}td.cell .val{display:block;font-size:.72em}
.k-holds{background:#1a9850;color:#fff}.k-vacuous{background:#c2a5cf;color:#1d1d1f}
.k-breaks{background:#d73027;color:#fff}.k-mixed{background:#fdae61;color:#1d1d1f}
.k-untrained{background:#92c5de;color:#1d1d1f}.k-na{background:#e6e6e6;color:#555}
.k-error{background:#404040;color:#fff}.k-none{background:#fff;border:1px dashed #ccc!important}
.chip{display:inline-block;min-width:1.4em;text-align:center;border-radius:3px;padding:0 3px}
ul.legend{list-style:none;padding:0;display:flex;flex-wrap:wrap;gap:4px 18px;font-size:.9em}
table.data{font-size:.82em;margin:.3em 0}table.data td,table.data th{border-bottom:1px solid #eee;padding:2px 8px;text-align:left}
td.num{text-align:right;font-variant-numeric:tabular-nums}
details.metrics summary{cursor:pointer;font-size:.9em;color:#333;margin-top:.5em}
#filters{display:flex;flex-wrap:wrap;gap:6px 18px;align-items:center;padding:8px 0;font-size:.9em}
#filters fieldset{border:1px solid #ddd;border-radius:4px;padding:2px 8px}#filters legend{font-size:.85em;color:#666}
#filters label{margin-right:8px;white-space:nowrap}#filter-claim{max-width:38ch}
svg.spark{display:block}
svg.spark .thr{stroke:#d73027;stroke-dasharray:3 2}svg.spark .fit{stroke:#333}svg.spark circle{fill:#1a5fb4}
dl.run{display:grid;grid-template-columns:max-content 1fr;gap:0 12px;font-size:.9em;margin:.4em 0}
dl.run dt{color:#666}dl.run dd{margin:0}
"""

SCRIPT = """
(function () {
  "use strict";
  var data = JSON.parse(document.getElementById("interp-data").textContent);
  var box = document.getElementById("filters");
  var select = document.createElement("select");
  select.id = "filter-claim";
  var all = document.createElement("option");
  all.value = "";
  all.textContent = "all claims (" + data.claims.length + ")";
  select.appendChild(all);
  data.claims.forEach(function (name, i) {
    var o = document.createElement("option");
    o.value = String(i);
    o.textContent = name;
    select.appendChild(o);
  });
  var label = document.createElement("label");
  label.textContent = "claim ";
  label.appendChild(select);
  box.appendChild(label);
  var checks = {};
  data.axes.forEach(function (axis) {
    var set = document.createElement("fieldset");
    var legend = document.createElement("legend");
    legend.textContent = axis.name;
    set.appendChild(legend);
    checks[axis.key] = [];
    axis.values.forEach(function (value) {
      var l = document.createElement("label");
      var c = document.createElement("input");
      c.type = "checkbox";
      c.checked = true;
      c.value = value;
      c.addEventListener("change", apply);
      checks[axis.key].push(c);
      l.appendChild(c);
      l.appendChild(document.createTextNode(" " + value));
      set.appendChild(l);
    });
    box.appendChild(set);
  });
  select.addEventListener("change", apply);
  function apply() {
    var off = {};
    Object.keys(checks).forEach(function (key) {
      off[key] = checks[key].filter(function (c) { return !c.checked; }).map(function (c) { return c.value; });
    });
    document.querySelectorAll("section.claim").forEach(function (s) {
      s.hidden = select.value !== "" && s.getAttribute("data-claim") !== select.value;
    });
    document.querySelectorAll("[data-family],[data-size],[data-optimizer]").forEach(function (el) {
      el.hidden = Object.keys(off).some(function (key) {
        var v = el.getAttribute("data-" + key);
        return v !== null && off[key].indexOf(v) >= 0;
      });
    });
  }
  apply();
  document.documentElement.setAttribute("data-interp-ready", String(data.claims.length));
})();
"""
