/**
 * The reports page: one self-contained HTML file (Chart.js inlined from node_modules, data as
 * embedded JSON), so it opens offline and from file://. The CSP forbids every network fetch.
 * User data (tag names, stream errors) reaches the DOM only escaped or through canvas text.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import type { Range, ReportData } from './data.js';

let chartJs: string | undefined;

/** Chart.js's minified UMD build, read from its package (dist/chart.umd.min.js). */
export function chartLibrary(): string {
  if (chartJs === undefined) {
    const main = createRequire(import.meta.url).resolve('chart.js'); // …/chart.js/dist/chart.cjs
    chartJs = readFileSync(join(dirname(main), 'chart.umd.min.js'), 'utf8');
  }
  return chartJs;
}

export function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] as string);
}

/** JSON that is safe inside a <script> element: no `</script>`, no `<!--`, no line separators. */
export function scriptJson(value: unknown): string {
  return JSON.stringify(value).replace(/</g, '\\u003c').replace(/>/g, '\\u003e').replace(/&/g, '\\u0026').replace(/\u2028/g, '\\u2028').replace(/\u2029/g, '\\u2029');
}

const inlineScript = (js: string) => js.replace(/<\/script/gi, '<\\/script');

function streamsTable(d: ReportData): string {
  if (d.streams.length === 0) return '<p class="empty">No sync has run yet.</p>';
  const rows = d.streams
    .map(
      (s) =>
        `<tr class="${s.status === 'succeeded' ? 'ok' : 'bad'}"><td>${escapeHtml(s.stream)}</td><td>${escapeHtml(s.status)}</td><td>${escapeHtml(s.trigger ?? '')}</td>` +
        `<td>${escapeHtml(s.startedAt.slice(0, 16).replace('T', ' '))}</td><td class="n">${s.rows}</td><td class="n">${s.requests}</td><td class="n">${s.retries}</td><td class="err">${escapeHtml(s.error ?? '')}</td></tr>`,
    )
    .join('\n');
  return `<table id="streams"><thead><tr><th>stream</th><th>status</th><th>trigger</th><th>started</th><th>rows</th><th>requests</th><th>retries</th><th>error</th></tr></thead><tbody>\n${rows}\n</tbody></table>`;
}

const STYLE = `body{font-family:system-ui,sans-serif;margin:1.5rem;color:#222;background:#fafafa}
h1{font-size:1.4rem;margin:0 0 .3rem}.meta{color:#666;font-size:.85rem}
nav{margin:1rem 0}nav button{font:inherit;padding:.3rem .8rem;margin-right:.3rem;border:1px solid #888;background:#fff;border-radius:4px;cursor:pointer}
nav button[aria-pressed=true]{background:#2563eb;color:#fff;border-color:#2563eb}
.grid{display:grid;grid-template-columns:repeat(auto-fit,minmax(440px,1fr));gap:1rem}
section{background:#fff;border:1px solid #ddd;border-radius:6px;padding:.8rem;min-width:0;overflow-x:auto}
section h2{font-size:1rem;margin:0 0 .5rem}.chart{position:relative;height:260px}
table{border-collapse:collapse;font-size:.8rem;width:100%;margin-top:.6rem}td,th{border-bottom:1px solid #eee;padding:.2rem .4rem;text-align:left}
td.n{text-align:right}td.err{overflow-wrap:anywhere}td{white-space:nowrap}td.err{white-space:normal}tr.bad td{color:#b91c1c}.empty{color:#888}`;

/** The page's own script: builds the charts from the embedded data and re-filters on range change. */
const CLIENT = String.raw`(function () {
  'use strict';
  var data = JSON.parse(document.getElementById('report-data').textContent);
  var initial = document.body.getAttribute('data-range');
  var COLORS = ['#2563eb', '#16a34a', '#dc2626', '#d97706', '#7c3aed', '#0891b2', '#db2777', '#65a30d', '#475569', '#ea580c'];
  var color = function (i) { return COLORS[i % COLORS.length]; };
  var DAY = 86400000;
  var toMs = function (d) { return Date.UTC(+d.slice(0, 4), +d.slice(5, 7) - 1, +d.slice(8, 10)); };
  var toDay = function (ms) { return new Date(ms).toISOString().slice(0, 10); };
  var firstDay = data.today;
  [data.messages, data.funnel, data.orders, data.revenue].forEach(function (rows) {
    rows.forEach(function (r) { if (r.day < firstDay) firstDay = r.day; });
  });
  function days(range) {
    var end = toMs(data.today);
    var start = range === 'all' ? toMs(firstDay) : end - (Number(range) - 1) * DAY;
    var out = [];
    for (var t = start; t <= end; t += DAY) out.push(toDay(t));
    return out;
  }
  function keys(rows, key) {
    var seen = {};
    rows.forEach(function (r) { seen[r[key]] = true; });
    return Object.keys(seen).sort();
  }
  // One zero-filled series per key over the range's days.
  function series(rows, key, value, labels) {
    var index = {};
    labels.forEach(function (d, i) { index[d] = i; });
    var out = {};
    keys(rows, key).forEach(function (k) { out[k] = labels.map(function () { return 0; }); });
    rows.forEach(function (r) { var i = index[r.day]; if (i !== undefined) out[r[key]][i] += r[value]; });
    return out;
  }
  var common = { responsive: true, maintainAspectRatio: false, animation: false, interaction: { mode: 'index', intersect: false } };
  function timeChart(id, type, stacked) {
    return new Chart(document.getElementById(id), {
      type: type,
      data: { labels: [], datasets: [] },
      options: Object.assign({}, common, { scales: { x: { stacked: stacked, ticks: { maxTicksLimit: 12 } }, y: { stacked: stacked, beginAtZero: true } } }),
    });
  }
  var charts = {
    messages: timeChart('chart-messages', 'bar', true),
    people: timeChart('chart-people', 'line', false),
    orders: timeChart('chart-orders', 'bar', true),
    revenue: timeChart('chart-revenue', 'line', false),
  };
  charts.tags = new Chart(document.getElementById('chart-tags'), {
    type: 'bar',
    data: { labels: data.topTags.map(function (t) { return t.tag; }), datasets: [{ label: 'people', data: data.topTags.map(function (t) { return t.people; }), backgroundColor: color(0) }] },
    options: Object.assign({}, common, { indexAxis: 'y', plugins: { legend: { display: false } }, scales: { y: { ticks: { autoSkip: false } } } }),
  });
  charts.streams = new Chart(document.getElementById('chart-streams'), {
    type: 'bar',
    data: {
      labels: data.streams.map(function (s) { return s.stream; }),
      datasets: [{ label: 'rows written by the last run', data: data.streams.map(function (s) { return s.rows; }),
        backgroundColor: data.streams.map(function (s) { return s.status === 'succeeded' ? color(1) : color(2); }) }],
    },
    options: Object.assign({}, common, { plugins: { legend: { display: false } } }),
  });
  function datasets(byKey, line) {
    return Object.keys(byKey).map(function (k, i) {
      return { label: k, data: byKey[k], backgroundColor: color(i), borderColor: color(i), pointRadius: line ? 0 : undefined, borderWidth: line ? 2 : 0 };
    });
  }
  function show(range) {
    var labels = days(range);
    var people = labels.map(function () { return 0; }), wrote = people.slice(), ordered = people.slice();
    var at = {};
    labels.forEach(function (d, i) { at[d] = i; });
    data.funnel.forEach(function (r) {
      var i = at[r.day];
      if (i !== undefined) { people[i] = r.newPeople; wrote[i] = r.peopleWrote; ordered[i] = r.peopleOrdered; }
    });
    var set = function (chart, ds) { chart.data.labels = labels; chart.data.datasets = ds; chart.update('none'); };
    set(charts.messages, datasets(series(data.messages, 'source', 'messages', labels), false));
    set(charts.people, datasets({ 'new people': people, 'people who wrote': wrote, 'people who ordered': ordered }, true));
    set(charts.orders, datasets(series(data.orders, 'status', 'orders', labels), false));
    set(charts.revenue, datasets(series(data.revenue, 'currency', 'revenue', labels), true));
    document.querySelectorAll('nav button').forEach(function (b) { b.setAttribute('aria-pressed', String(b.getAttribute('data-range') === range)); });
    document.body.setAttribute('data-shown', range);
    document.getElementById('range-label').textContent = labels[0] + ' – ' + labels[labels.length - 1] + ' (UTC)';
  }
  document.querySelectorAll('nav button').forEach(function (b) {
    b.addEventListener('click', function () { show(b.getAttribute('data-range')); });
  });
  show(initial);
})();`;

export function renderReport(d: ReportData, opts: { range: Range; title?: string }): string {
  const title = opts.title ?? 'leeloo-sync report';
  const button = (r: Range) => `<button type="button" data-range="${r}" aria-pressed="false">${r === 'all' ? 'all' : `${r} days`}</button>`;
  const section = (id: string, heading: string, extra = '') => `<section><h2>${heading}</h2><div class="chart"><canvas id="${id}"></canvas></div>${extra}</section>`;
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; img-src data:">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)}</title>
<style>${STYLE}</style>
</head>
<body data-range="${opts.range}">
<h1>${escapeHtml(title)}</h1>
<div class="meta">generated ${escapeHtml(d.generatedAt)}, data as of ${escapeHtml(d.dataAsOf)} (the mirror's views, docs/schema.md) · <span id="range-label"></span></div>
<nav aria-label="range">${(['7', '30', '90', 'all'] as const).map(button).join('')}</nav>
<div class="grid">
${section('chart-messages', 'Messages per day by messenger')}
${section('chart-people', 'New people per day (and people who wrote, who ordered)')}
${section('chart-orders', 'Orders per day by status')}
${section('chart-revenue', 'Revenue per day by currency (paid orders)')}
${section('chart-tags', 'Top tags (live people)')}
${section('chart-streams', 'Sync health: the last run per stream', streamsTable(d))}
</div>
<script type="application/json" id="report-data">${scriptJson(d)}</script>
<script>${inlineScript(chartLibrary())}</script>
<script>${CLIENT}</script>
</body>
</html>
`;
}
