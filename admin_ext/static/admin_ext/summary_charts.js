// A chart's summary page: growth charts (the reference's centile lines and the
// child's points, by corrected age) and assessment score trends, drawn with the
// Chart.js that django-unfold ships. Ages arrive in months with their axis
// (records/charts/age_axis.py): ticks read "6 m" under two years, "1 y 6 m" above;
// each centile line is named at its right end (0.4th ... 99.6th). Data comes from json_script elements; no
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

  // An age in months as a tick reads (the words of age_axis.tick_text).
  function ageText(months, unit) {
    var whole = Math.round(months);
    if (whole === 0) return "0";
    if (unit === "months") return whole + " m";
    var sign = whole < 0 ? "-" : "";
    var years = Math.floor(Math.abs(whole) / 12);
    var rest = Math.abs(whole) % 12;
    var parts = [];
    if (years) parts.push(years + " y");
    if (rest) parts.push(rest + " m");
    return sign + parts.join(" ");
  }

  function ageScale(axis) {
    return {
      type: "linear",
      min: axis.min,
      max: axis.max,
      title: { display: true, text: axis.title },
      ticks: {
        stepSize: axis.step,
        autoSkip: true,
        callback: function (value) {
          return ageText(value, axis.unit);
        },
      },
    };
  }

  // Names each centile line at its right end, nudged apart where lines crowd.
  var centileLabels = {
    id: "ndasCentileLabels",
    afterDatasetsDraw: function (chartObject) {
      var ctx = chartObject.ctx;
      var area = chartObject.chartArea;
      var placed = [];
      chartObject.data.datasets.forEach(function (dataset, index) {
        if (dataset.centile === undefined) return;
        var elements = chartObject.getDatasetMeta(index).data;
        var last = elements[elements.length - 1];
        if (!last) return;
        placed.push({ text: dataset.label, colour: dataset.borderColor, y: last.y });
      });
      placed.sort(function (a, b) { return b.y - a.y; });
      var gap = 10;
      var i;
      for (i = 1; i < placed.length; i += 1) {
        if (placed[i - 1].y - placed[i].y < gap) placed[i].y = placed[i - 1].y - gap;
      }
      // Pushed above the plot: bring the top label back in and push down instead.
      var top = placed.length ? placed[placed.length - 1] : null;
      if (top && top.y < area.top + gap / 2) {
        top.y = area.top + gap / 2;
        for (i = placed.length - 2; i >= 0; i -= 1) {
          if (placed[i].y - placed[i + 1].y < gap) placed[i].y = placed[i + 1].y + gap;
        }
      }
      ctx.save();
      ctx.font = "10px sans-serif";
      ctx.textBaseline = "middle";
      placed.forEach(function (label) {
        ctx.fillStyle = "rgb(75, 85, 99)";
        ctx.fillText(label.text, area.right + 4, label.y);
      });
      ctx.restore();
    },
  };

  function drawGrowth(canvas, chart) {
    var datasets = chart.lines.map(function (line) {
      return {
        type: "line",
        label: line.label,
        centile: line.centile,
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
      plugins: [centileLabels],
      options: {
        animation: false,
        maintainAspectRatio: false,
        layout: { padding: { right: 40 } },
        parsing: { xAxisKey: "x", yAxisKey: "y" },
        scales: {
          x: ageScale(chart.axis),
          y: { title: { display: true, text: chart.unit } },
        },
        plugins: {
          legend: { display: false },
          tooltip: {
            filter: function (item) {
              return item.dataset.label === "Measurements";
            },
            callbacks: {
              title: function (items) {
                if (!items.length) return "";
                return items[0].raw.date + " (corrected age " +
                  ageText(items[0].raw.x, "years") + ")";
              },
              label: function (item) {
                return item.raw.label;
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
          x: ageScale(trend.axis),
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
