// A chart's summary page: growth charts (the reference's centile lines and the
// child's points, by corrected age) and assessment score trends, drawn with the
// Chart.js that django-unfold ships. Data comes from json_script elements; no
// inline script (the CSP forbids it). Dates arrive formatted by the server
// (records.common.display: 17 May 2023); this file never formats one itself.
(function () {
  "use strict";

  function readJSON(id) {
    var element = document.getElementById(id);
    return element ? JSON.parse(element.textContent) : null;
  }

  function lineColour(centile) {
    if (centile === 50) return "rgba(75, 85, 99, 0.9)";
    if (centile === 0.4 || centile === 99.6) return "rgba(220, 38, 38, 0.55)";
    return "rgba(107, 114, 128, 0.45)";
  }

  function ordinalLabel(centile) {
    return centile + (centile === 2 ? "nd" : "th");
  }

  function drawGrowth(canvas, chart) {
    var datasets = chart.lines.map(function (line) {
      return {
        type: "line",
        label: ordinalLabel(line.centile),
        data: line.points,
        borderColor: lineColour(line.centile),
        borderWidth: line.centile === 50 ? 1.5 : 1,
        borderDash: line.centile === 0.4 || line.centile === 99.6 ? [4, 4] : [],
        pointRadius: 0,
        pointHitRadius: 0,
        tension: 0.2,
        fill: false,
      };
    });
    datasets.push({
      type: "line",
      label: "Measurements",
      data: chart.points,
      borderColor: "rgb(147, 51, 234)",
      backgroundColor: "rgb(147, 51, 234)",
      borderWidth: 2,
      pointRadius: 4,
      showLine: true,
      fill: false,
    });
    return new window.Chart(canvas, {
      data: { datasets: datasets },
      options: {
        animation: false,
        maintainAspectRatio: false,
        parsing: { xAxisKey: "x", yAxisKey: "y" },
        scales: {
          x: {
            type: "linear",
            min: chart.x_min,
            max: chart.x_max,
            title: { display: true, text: "Corrected age (years)" },
          },
          y: { title: { display: true, text: chart.unit } },
        },
        plugins: {
          legend: { display: false },
          tooltip: {
            filter: function (item) {
              return item.dataset.label === "Measurements";
            },
            callbacks: {
              label: function (item) {
                return item.raw.date + ": " + item.raw.label;
              },
            },
          },
        },
      },
    });
  }

  function drawTrend(canvas, trend) {
    return new window.Chart(canvas, {
      type: "line",
      data: {
        datasets: [
          {
            label: trend.label,
            data: trend.points,
            borderColor: "rgb(147, 51, 234)",
            backgroundColor: "rgb(147, 51, 234)",
            pointRadius: 4,
          },
        ],
      },
      options: {
        animation: false,
        maintainAspectRatio: false,
        scales: {
          x: { type: "linear", title: { display: true, text: "Age (years)" } },
          y: { title: { display: true, text: "Score" } },
        },
        plugins: {
          legend: { display: false },
          // The date as NDAS shows dates (made by the server: records.common.display),
          // not Chart.js's own age-axis number.
          tooltip: {
            callbacks: {
              title: function (items) {
                return items.length ? items[0].raw.date : "";
              },
              label: function (item) {
                return trend.label + ": " + item.raw.y;
              },
            },
          },
        },
      },
    });
  }

  function draw() {
    if (!window.Chart) return;
    var growth = readJSON("growth-data") || [];
    document.querySelectorAll("canvas[data-growth-chart]").forEach(function (canvas) {
      var chart = growth[Number(canvas.dataset.growthChart)];
      if (chart) {
        drawGrowth(canvas, chart);
        canvas.dataset.drawn = "true";
      }
    });
    var trends = readJSON("trend-data") || [];
    document.querySelectorAll("canvas[data-trend-chart]").forEach(function (canvas) {
      var trend = trends[Number(canvas.dataset.trendChart)];
      if (trend) {
        drawTrend(canvas, trend);
        canvas.dataset.drawn = "true";
      }
    });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", draw);
  } else {
    draw();
  }
})();
