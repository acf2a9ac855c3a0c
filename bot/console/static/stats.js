/* 统计: draws the trend and the categories from the page's JSON block (no inline script: CSP). */
(function () {
  "use strict";
  var source = document.getElementById("chart-data");
  if (!source || !window.echarts) { return; }
  var data = JSON.parse(source.textContent);
  var charts = [];
  var trend = document.getElementById("trend-chart");
  if (trend) {
    var chart = echarts.init(trend, null, { renderer: "svg" });
    chart.setOption({
      tooltip: { trigger: "axis", valueFormatter: function (v) { return v == null ? "—" : v + "%"; } },
      legend: { top: 0 },
      grid: { left: 40, right: 12, top: 48, bottom: 28 },
      xAxis: { type: "category", data: data.months.map(function (m) { return m.slice(2); }) },
      yAxis: { type: "value", min: 0, max: 100, axisLabel: { formatter: "{value}%" } },
      series: data.series.map(function (s) {
        return { name: s[0], type: "line", connectNulls: false, data: s[1] };
      })
    });
    charts.push(chart);
  }
  var cats = document.getElementById("category-chart");
  if (cats && data.categories.length) {
    var bars = echarts.init(cats, null, { renderer: "svg" });
    bars.setOption({
      tooltip: {},
      grid: { left: 100, right: 12, top: 8, bottom: 24 },
      xAxis: { type: "value", minInterval: 1 },
      yAxis: { type: "category", inverse: true, data: data.categories.map(function (c) { return c[0]; }) },
      series: [{ name: "件数", type: "bar", data: data.categories.map(function (c) { return c[1]; }) }]
    });
    charts.push(bars);
  }
  window.addEventListener("resize", function () { charts.forEach(function (c) { c.resize(); }); });
}());
