// Report charts, drawn by Chart.js (vendored: static/supervision/vendor/chart.umd.min.js)
// from the JSON the page carries in #report-data (no inline script: the CSP forbids it).
(function () {
  "use strict";
  var COLORS = ["#0f766e", "#a15c07", "#5b6b79", "#b42318"];

  function draw(id, data) {
    var canvas = document.getElementById(id);
    if (!canvas || !window.Chart || !data) return;
    new window.Chart(canvas, {
      type: "bar",
      data: {
        labels: data.labels,
        datasets: data.series.map(function (s, i) {
          return { label: s.label, data: s.data, backgroundColor: COLORS[i % COLORS.length] };
        })
      },
      options: { responsive: true, maintainAspectRatio: false, animation: false,
                 scales: { y: { beginAtZero: true } } }
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    var node = document.getElementById("report-data");
    if (!node) return;
    var data = JSON.parse(node.textContent);
    draw("chart-divisions", data.divisions);
    draw("chart-agents", data.agents);
  });
})();
