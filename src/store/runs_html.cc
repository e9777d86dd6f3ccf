#include "store/runs_html.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <ctime>
#include <set>

#include "report/report.h"
#include "util/log.h"

namespace retort::store {

namespace {

std::string esc(std::string_view s) {
  return html_escape(s);
}

// JSON for a <script type="application/json"> block: "<" is written as \u003c so no text
// can close the element or open a comment; U+2028/2029 are escaped for old parsers.
std::string json_for_script(const Json& j) {
  std::string raw = log::redact(j.dump(-1, ' ', false, Json::error_handler_t::replace));
  std::string out;
  out.reserve(raw.size() + raw.size() / 16);
  for (size_t i = 0; i < raw.size(); ++i) {
    char c = raw[i];
    if (c == '<')
      out += "\\u003c";
    else if (c == '>')
      out += "\\u003e";
    else if (c == '&')
      out += "\\u0026";
    else if (c == '\xE2' && i + 2 < raw.size() && raw[i + 1] == '\x80' &&
             (raw[i + 2] == '\xA8' || raw[i + 2] == '\xA9')) {
      out += raw[i + 2] == '\xA8' ? "\\u2028" : "\\u2029";
      i += 2;
    } else {
      out += c;
    }
  }
  return out;
}

std::string utc(double unix_s) {
  std::time_t t = static_cast<std::time_t>(unix_s);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%d %H:%M UTC", &tm);
  return buf;
}

bool is_proportion(const StoredMetric& m) {
  return m.value >= 0.0 && m.value <= 1.0;
}

struct Interval {
  double lo = 0, hi = 0;
  bool known = false;
};

Interval interval_of(const StoredMetric& m) {
  Interval iv;
  if (is_proportion(m) && m.n > 0) {
    auto [lo, hi] = wilson_interval(m.value, m.n);
    iv = {lo, hi, true};
  } else if (m.stderr_value) {
    iv = {m.value - 1.959964 * *m.stderr_value, m.value + 1.959964 * *m.stderr_value, true};
  }
  return iv;
}

const char* kStyle = R"css(
body{font:14px/1.45 system-ui,sans-serif;margin:24px;color:#1b1b1b;max-width:1400px}
h1{font-size:22px}h2{font-size:17px;margin-top:28px;border-bottom:1px solid #ddd}
table{border-collapse:collapse;margin:8px 0}td,th{border:1px solid #ddd;padding:3px 8px;
vertical-align:top;text-align:left}th{background:#f4f4f4}td.num{text-align:right;
font-variant-numeric:tabular-nums}.muted{color:#777}.sig{font-weight:600}
.refused{color:#a33}.note{color:#975a00}#samples pre{white-space:pre-wrap;max-height:14em;
overflow:auto;margin:0;font:12px/1.35 ui-monospace,monospace}
.filters button{margin-right:4px}.filters button[aria-pressed=true]{background:#234;
color:#fff}tr.correct td.v{color:#176d2c}tr.incorrect td.v{color:#a33}
tr.failed td.v{color:#777}details summary{cursor:pointer;color:#235}
)css";

// The sample browser: data from #retort-data, rendered with textContent only.
const char* kScript = R"js(
(function () {
  'use strict';
  var data = JSON.parse(document.getElementById('retort-data').textContent);
  var runSel = document.getElementById('s-run'), taskSel = document.getElementById('s-task');
  var search = document.getElementById('s-search'), body = document.getElementById('s-body');
  var count = document.getElementById('s-count');
  var state = {filter: 'all'};
  function cls(s) {
    if (s.failed) return 'failed';
    if (s.verdict === null || s.verdict === undefined) return 'unscored';
    return s.verdict >= 1 ? 'correct' : 'incorrect';
  }
  function matches(s) {
    var c = cls(s);
    if (state.filter === 'truncated') { if (s.finish !== 'length') return false; }
    else if (state.filter !== 'all' && state.filter !== c) return false;
    var q = search.value.toLowerCase();
    if (!q) return true;
    return [s.response, s.extracted, s.target, s.prompt, String(s.doc)].some(function (t) {
      return String(t || '').toLowerCase().indexOf(q) >= 0;
    });
  }
  function cell(tr, text, className) {
    var td = document.createElement('td');
    if (className) td.className = className;
    td.textContent = text;
    tr.appendChild(td);
    return td;
  }
  function pre(tr, text, summary) {
    var td = document.createElement('td');
    var p = document.createElement('pre');
    p.textContent = text;
    if (summary) {
      var d = document.createElement('details'), sm = document.createElement('summary');
      sm.textContent = summary;
      d.appendChild(sm);
      d.appendChild(p);
      td.appendChild(d);
    } else {
      td.appendChild(p);
    }
    tr.appendChild(td);
  }
  function fillTasks() {
    var run = data.runs[runSel.value] || {tasks: {}};
    var keep = taskSel.value;
    while (taskSel.firstChild) taskSel.removeChild(taskSel.firstChild);
    Object.keys(run.tasks).forEach(function (t) {
      var o = document.createElement('option');
      o.value = t;
      o.textContent = t;
      taskSel.appendChild(o);
    });
    if (keep && run.tasks[keep]) taskSel.value = keep;
  }
  function render() {
    var run = data.runs[runSel.value] || {tasks: {}};
    var samples = run.tasks[taskSel.value] || [];
    while (body.firstChild) body.removeChild(body.firstChild);
    var shown = 0, limit = 500;
    samples.forEach(function (s) {
      if (!matches(s)) return;
      shown++;
      if (shown > limit) return;
      var tr = document.createElement('tr');
      tr.className = cls(s);
      cell(tr, String(s.doc), 'num');
      cell(tr, s.failed ? 'failed' : (s.verdict === null ? '—' : String(s.verdict)), 'v');
      cell(tr, s.extracted);
      cell(tr, s.target);
      pre(tr, s.response);
      pre(tr, s.prompt, 'prompt (' + (s.prompt || '').length + ' chars)');
      cell(tr, String(s.thinking), 'num');
      cell(tr, s.finish);
      body.appendChild(tr);
    });
    count.textContent = shown + ' of ' + samples.length + ' samples' +
        (shown > limit ? ' (first ' + limit + ' shown)' : '');
  }
  Array.prototype.forEach.call(document.querySelectorAll('.filters button'), function (b) {
    b.addEventListener('click', function () {
      state.filter = b.getAttribute('data-filter');
      Array.prototype.forEach.call(document.querySelectorAll('.filters button'), function (x) {
        x.setAttribute('aria-pressed', String(x === b));
      });
      render();
    });
  });
  runSel.addEventListener('change', function () { fillTasks(); render(); });
  taskSel.addEventListener('change', render);
  search.addEventListener('input', render);
  // The initial view can come from the address: #run=1&task=gsm8k&filter=incorrect&q=text
  var h = {};
  location.hash.replace(/^#/, '').split('&').forEach(function (kv) {
    var i = kv.indexOf('=');
    if (i > 0) h[decodeURIComponent(kv.slice(0, i))] = decodeURIComponent(kv.slice(i + 1));
  });
  if (h.run && data.runs[h.run]) runSel.value = h.run;
  fillTasks();
  if (h.task) taskSel.value = h.task;
  if (h.q) search.value = h.q;
  var start = document.querySelector('.filters button[data-filter="' + (h.filter || 'all') + '"]');
  if (start) start.click(); else render();
  document.body.setAttribute('data-ready', '1');
})();
)js";

}  // namespace

std::pair<double, double> wilson_interval(double p, int64_t n, double z) {
  if (n <= 0) return {0.0, 1.0};
  double nn = static_cast<double>(n), z2 = z * z;
  double denom = 1 + z2 / nn;
  double center = (p + z2 / (2 * nn)) / denom;
  double half = z * std::sqrt(p * (1 - p) / nn + z2 / (4 * nn * nn)) / denom;
  return {std::max(0.0, center - half), std::min(1.0, center + half)};
}

std::string render_runs_html(const std::vector<StoredRun>& runs,
                             const std::vector<std::vector<TaskComparison>>& vs_first,
                             size_t max_samples) {
  std::string h;
  h += "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n";
  h += "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; "
       "style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src data:\">\n";
  h += "<title>retort report</title><style>";
  h += kStyle;
  h += "</style></head><body>\n<h1>retort report</h1>\n";

  // Runs.
  h += "<h2>Runs</h2><table><tr><th>#</th><th>Run</th><th>Model</th><th>Status</th>"
       "<th>Started</th><th>Duration</th></tr>\n";
  for (size_t i = 0; i < runs.size(); ++i) {
    const auto& r = runs[i];
    h += fmt::format(
        "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td class=num>{}</td></tr>\n",
        i == 0 ? std::string("A") : fmt::format("B{}", runs.size() > 2 ? std::to_string(i) : ""),
        esc(r.id), esc(r.model), esc(r.status), r.started > 0 ? utc(r.started) : "",
        format_hms(r.duration_s));
  }
  h += "</table>\n";

  // Scores with 95% intervals (Wilson for proportions).
  std::vector<std::string> task_order;
  std::set<std::string> seen;
  for (const auto& r : runs)
    for (const auto& t : r.tasks)
      if (!t.metrics.empty() && seen.insert(t.name).second) task_order.push_back(t.name);
  h += "<h2>Scores</h2><p class=muted>Primary metric of each task; 95% intervals are Wilson "
       "score intervals for values in [0, 1], else value ± 1.96 stderr.</p>"
       "<table id=scores><tr><th>Task</th><th>Metric</th>";
  for (size_t i = 0; i < runs.size(); ++i)
    h += fmt::format("<th>{}</th>", esc(runs[i].model.empty() ? runs[i].id : runs[i].model));
  h += "</tr>\n";
  for (const auto& name : task_order) {
    const StoredMetric* primary = nullptr;
    for (const auto& r : runs)
      if (const StoredTask* t = r.task(name); t && !t->metrics.empty() && !primary)
        primary = &t->metrics.front();
    h += fmt::format("<tr><td>{}</td><td>{}</td>", esc(name),
                     esc(primary->metric + "," + primary->filter));
    for (const auto& r : runs) {
      const StoredTask* t = r.task(name);
      const StoredMetric* m = nullptr;
      if (t)
        for (const auto& x : t->metrics)
          if (x.metric == primary->metric && x.filter == primary->filter) m = &x;
      if (!m) {
        h += "<td class=muted>—</td>";
        continue;
      }
      Interval iv = interval_of(*m);
      std::string n = t->n_failed > 0 ? fmt::format("{}/{} scored", m->n, t->n_samples)
                                      : fmt::format("n={}", m->n);
      h += fmt::format("<td class=num>{:.4f}{} <span class=muted>{}</span></td>", m->value,
                       iv.known ? fmt::format(" [{:.4f}, {:.4f}]", iv.lo, iv.hi) : "", n);
    }
    h += "</tr>\n";
  }
  h += "</table>\n";

  // Bar chart with error bars (SVG).
  if (!task_order.empty()) {
    const int bar = 18, gap = 10, label_w = 220, plot_w = 520;
    const int rows = static_cast<int>(task_order.size() * runs.size());
    const int height = rows * bar + static_cast<int>(task_order.size()) * gap + 30;
    static const char* colors[] = {"#4a78b5", "#d9822b", "#3a9a5b", "#9b59b6", "#c0392b"};
    double vmax = 1.0;
    for (const auto& r : runs)
      for (const auto& t : r.tasks)
        if (!t.metrics.empty()) vmax = std::max(vmax, interval_of(t.metrics.front()).hi);
    h += fmt::format(
        "<h2>Chart</h2><svg id=chart width=\"{}\" "
        "height=\"{}\" role=img>",
        label_w + plot_w + 80, height);
    int y = 10;
    for (const auto& name : task_order) {
      h += fmt::format("<text x=\"0\" y=\"{}\" font-size=\"12\">{}</text>", y + 13, esc(name));
      for (size_t i = 0; i < runs.size(); ++i) {
        const StoredTask* t = runs[i].task(name);
        if (t && !t->metrics.empty()) {
          const StoredMetric& m = t->metrics.front();
          auto x = [&](double v) { return label_w + static_cast<int>(v / vmax * plot_w); };
          h += fmt::format(
              "<rect x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\" fill=\"{}\"><title>{}: "
              "{:.4f}</title></rect>",
              label_w, y, std::max(0, x(m.value) - label_w), bar - 4, colors[i % 5],
              esc(runs[i].model), m.value);
          Interval iv = interval_of(m);
          if (iv.known) {
            int cy = y + (bar - 4) / 2;
            h += fmt::format(
                "<line x1=\"{0}\" x2=\"{1}\" y1=\"{2}\" y2=\"{2}\" stroke=\"#222\"/>"
                "<line x1=\"{0}\" x2=\"{0}\" y1=\"{3}\" y2=\"{4}\" stroke=\"#222\"/>"
                "<line x1=\"{1}\" x2=\"{1}\" y1=\"{3}\" y2=\"{4}\" stroke=\"#222\"/>",
                x(iv.lo), x(iv.hi), cy, cy - 4, cy + 4);
          }
          h += fmt::format("<text x=\"{}\" y=\"{}\" font-size=\"11\">{:.3f}</text>",
                           x(iv.known ? iv.hi : m.value) + 6, y + 11, m.value);
        }
        y += bar;
      }
      y += gap;
    }
    h += "</svg>\n";
  }

  // Paired differences against the first run.
  for (size_t i = 0; i < vs_first.size() && i + 1 < runs.size(); ++i) {
    h += fmt::format("<h2>Paired differences: {} − {}</h2>", esc(runs[i + 1].model),
                     esc(runs[0].model));
    h += "<table class=diffs><tr><th>Task</th><th>Metric</th><th>n</th><th>B−A</th>"
         "<th>95% CI</th><th>p</th><th>Test</th><th>What it shows</th></tr>\n";
    for (const auto& t : vs_first[i]) {
      if (t.refused) {
        h += fmt::format("<tr><td>{}</td><td colspan=7 class=refused>refused: {}</td></tr>\n",
                         esc(t.task), esc(t.reason));
        continue;
      }
      for (const auto& m : t.metrics) {
        const auto& s = m.stats;
        double k = m.proportion ? 100.0 : 1.0;
        bool sig = s.p_value < 0.05 && (s.ci_low > 0 || s.ci_high < 0);
        h += fmt::format(
            "<tr{}><td>{}</td><td>{}</td><td class=num>{}</td><td class=num>{:+.1f}</td>"
            "<td class=num>[{:+.1f}, {:+.1f}]</td><td class=num>{:.2g}</td><td>{}</td>"
            "<td>{}</td></tr>\n",
            sig ? " class=sig" : "", esc(t.task), esc(m.metric + "," + m.filter), s.n, s.diff * k,
            s.ci_low * k, s.ci_high * k, s.p_value, esc(s.method), esc(m.sentence));
      }
      for (const auto& note : t.notes)
        h += fmt::format("<tr><td>{}</td><td colspan=7 class=note>{}</td></tr>\n", esc(t.task),
                         esc(note));
    }
    h += "</table>\n";
  }

  // Statistics.
  h += "<h2>Latency and throughput</h2><table id=stats><tr><th>Run</th><th>Requests</th>"
       "<th>Failed</th><th>Cached</th><th>Retries</th><th>Tokens in / out</th>"
       "<th>Req/min</th><th>Tok/s</th><th>Latency p50 / p90 / p99</th><th>TTFT p50</th></tr>\n";
  for (const auto& r : runs) {
    RunStats s = stats_from_json(r.stats.is_object() ? r.stats : Json::object());
    h += fmt::format(
        "<tr><td>{}</td><td class=num>{}</td><td class=num>{}</td><td class=num>{}</td>"
        "<td class=num>{}</td><td class=num>{} / {}</td><td class=num>{:.1f}</td>"
        "<td class=num>{:.1f}</td><td class=num>{:.2f} / {:.2f} / {:.2f} s</td>"
        "<td class=num>{}</td></tr>\n",
        esc(r.model), s.total, s.failed, s.cached, s.retries, s.prompt_tokens, s.completion_tokens,
        s.requests_per_min(), s.tokens_per_s(), s.latency_p50_s, s.latency_p90_s, s.latency_p99_s,
        s.ttft_p50_s >= 0 ? fmt::format("{:.3f} s", s.ttft_p50_s) : std::string("not streamed"));
  }
  h += "</table>\n";
  std::vector<std::pair<std::string, std::vector<SeriesPoint>>> series;
  for (size_t i = 0; i < runs.size(); ++i) {
    RunStats s = stats_from_json(runs[i].stats.is_object() ? runs[i].stats : Json::object());
    series.emplace_back(fmt::format("{}: {}", i + 1, runs[i].model), std::move(s.series));
  }
  const std::string chart = series_chart_svg(series);
  if (!chart.empty()) h += "<div id=series>" + chart + "</div>\n";

  // Sample browser.
  Json data = Json::object();
  Json jruns = Json::array();
  for (const auto& r : runs) {
    Json tasks = Json::object();
    for (const auto& t : r.tasks) {
      if (t.samples.empty()) continue;
      std::string first_filter = t.samples.front().filter;
      Json list = Json::array();
      for (const auto& s : t.samples) {
        if (s.filter != first_filter) continue;
        if (list.size() >= max_samples) break;
        list.push_back({{"doc", s.doc_id},
                        {"verdict", s.verdict ? Json(*s.verdict) : Json()},
                        {"failed", s.failed},
                        {"extracted", s.extracted},
                        {"target", s.target},
                        {"response", s.response},
                        {"prompt", s.prompt},
                        {"thinking", s.thinking_chars},
                        {"finish", s.finish_reason}});
      }
      tasks[t.name] = list;
    }
    jruns.push_back({{"model", r.model}, {"id", r.id}, {"tasks", tasks}});
  }
  data["runs"] = jruns;
  h += "<h2>Samples</h2><div id=samples><p><select id=s-run>";
  for (size_t i = 0; i < runs.size(); ++i)
    h += fmt::format("<option value=\"{}\">{}</option>", i,
                     esc(runs[i].model + " (" + runs[i].id + ")"));
  h += "</select> <select id=s-task></select> <input id=s-search type=search "
       "placeholder=\"search responses, answers, prompts\"></p><p class=filters>";
  for (const char* f : {"all", "correct", "incorrect", "truncated", "failed"})
    h += fmt::format("<button type=button data-filter=\"{0}\" aria-pressed=false>{0}</button>", f);
  h += " <span id=s-count></span></p><table><thead><tr><th>Doc</th><th>Verdict</th>"
       "<th>Extracted</th><th>Target</th><th>Response</th><th>Prompt</th><th>Thinking "
       "chars</th><th>Finish</th></tr></thead><tbody id=s-body></tbody></table></div>\n";
  h += "<script type=\"application/json\" id=\"retort-data\">" + json_for_script(data) +
       "</script>\n<script>" + kScript + "</script>\n</body></html>\n";
  return h;
}

}  // namespace retort::store
