// Import report page: follow a worker's import (rows done, rows per second,
// time left) and show the report once it ends. No data of the file comes here.
(function () {
  "use strict";
  var panel = document.querySelector("[data-progress-url]");
  if (!panel) {
    return;
  }
  var url = panel.getAttribute("data-progress-url");
  var every = 1000;
  var number = new Intl.NumberFormat("en-GB");

  function field(name) {
    return panel.querySelector('[data-progress="' + name + '"]');
  }

  function duration(seconds) {
    if (seconds < 60) {
      return seconds + " s";
    }
    var minutes = Math.floor(seconds / 60);
    if (minutes < 60) {
      return minutes + " min " + (seconds % 60) + " s";
    }
    return Math.floor(minutes / 60) + " h " + (minutes % 60) + " min";
  }

  function show(state) {
    field("step").textContent = state.step;
    var status = document.querySelector("[data-testid=status]");
    if (status) {
      status.textContent = state.step; // the report's own status cell
    }
    field("rows").textContent = number.format(state.rows);
    var bar = field("bar");
    bar.max = Math.max(state.total, state.rows, 1);
    bar.value = state.rows;
    field("rate").textContent =
      state.rows_per_second === null ? "—" : number.format(state.rows_per_second);
    field("left").textContent =
      state.seconds_left === null ? "—" : duration(state.seconds_left);
  }

  function poll() {
    fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (response) {
        if (!response.ok) {
          throw new Error(response.status);
        }
        return response.json();
      })
      .then(function (state) {
        if (state.done) {
          window.location.reload(); // the report, from the server
          return;
        }
        show(state);
        window.setTimeout(poll, every);
      })
      .catch(function () {
        window.setTimeout(poll, every * 5); // a hiccup: try again, less often
      });
  }

  poll();
})();
