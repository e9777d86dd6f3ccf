// The HTML report: one self-contained page (inline CSS, no scripts, no external assets) made
// from a results document and sample records, so `retort report` can re-render it from files.
#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <ctime>
#include <map>
#include <set>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "report/report.h"
#include "report/text.h"
#include "util/log.h"
#include "util/pyvalue.h"

namespace retort {

using report_text::fixed;

std::string html_escape(std::string_view text) {
  std::string out;
  out.reserve(text.size() + text.size() / 8);
  for (char c : text) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&#39;";
        break;
      default:
        out += c;
    }
  }
  return out;
}

namespace {

constexpr const char* kStyle = R"css(
:root{--fg:#1d2330;--muted:#667085;--bg:#fff;--panel:#f6f7f9;--line:#e3e6ea;--accent:#2f6fdf;
--ok:#1b873f;--bad:#c93c37;--ci:#b9cdf5}
@media (prefers-color-scheme:dark){:root{--fg:#e6e8eb;--muted:#9aa3ad;--bg:#14171c;--panel:#1c2027;
--line:#2c323b;--accent:#6b9cff;--ok:#4cc776;--bad:#ff6b66;--ci:#2f4a80}}
*{box-sizing:border-box}
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:var(--fg);
background:var(--bg);margin:0 auto;max-width:1200px;padding:24px}
h1{font-size:22px;margin:0 0 4px}h2{font-size:17px;margin:28px 0 8px;border-bottom:1px solid var(--line);
padding-bottom:4px}h3{font-size:15px;margin:16px 0 6px}
.sub{color:var(--muted);margin:0 0 8px}
.badge{display:inline-block;padding:1px 8px;border-radius:10px;font-size:12px;font-weight:600}
.badge.ok{background:var(--ok);color:#fff}.badge.bad{background:var(--bad);color:#fff}
table{border-collapse:collapse;width:100%;margin:6px 0}
th,td{padding:4px 8px;border-bottom:1px solid var(--line);text-align:left;vertical-align:top}
th{background:var(--panel);font-weight:600}
td.num{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
td.name{white-space:pre}
.ci{position:relative;height:12px;min-width:160px;background:var(--panel);border-radius:3px}
.ci .range{position:absolute;top:2px;height:8px;background:var(--ci);border-radius:2px}
.ci .pt{position:absolute;top:0;width:2px;height:12px;background:var(--accent)}
pre{background:var(--panel);padding:8px;border-radius:4px;white-space:pre-wrap;word-break:break-word;
margin:4px 0;max-height:420px;overflow:auto;font:12px/1.4 ui-monospace,SFMono-Regular,Menlo,monospace}
details{margin:4px 0}details>summary{cursor:pointer}
details.task>summary{font-weight:600;font-size:15px}
details.sample{border:1px solid var(--line);border-radius:4px;padding:4px 8px}
.ok{color:var(--ok)}.bad{color:var(--bad)}.muted{color:var(--muted)}
.label{font-weight:600;margin-top:6px}
dl.kv{display:grid;grid-template-columns:max-content 1fr;gap:2px 16px;margin:6px 0}
dl.kv dt{color:var(--muted)}dl.kv dd{margin:0}
)css";

const Json& member(const Json& obj, const std::string& key) {
  static const Json kNull;
  if (obj.is_object()) {
    auto it = obj.find(key);
    if (it != obj.end()) return *it;
  }
  return kNull;
}

std::string text_of(const Json& v) {
  if (v.is_string()) return v.get<std::string>();
  return py_json_dumps(v, -1, false);
}

std::string number_text(const Json& v, int decimals) {
  if (v.is_number_float()) return fixed(v.get<double>(), decimals);
  return py_str(v);
}

std::string ci_cell(const Json& value, const Json& se, const std::string& metric) {
  if (!value.is_number() || !se.is_number()) return "<td></td>";
  double v = value.get<double>();
  double s = se.get<double>();
  double lo = v - 1.96 * s, hi = v + 1.96 * s;
  std::string range = fmt::format("[{}, {}]", fixed(lo, 4), fixed(hi, 4));
  bool unit =
      v >= 0 && v <= 1 && std::isfinite(s) && metric.find("perplexity") == std::string::npos;
  if (!unit) return "<td class=\"num\">" + html_escape(range) + "</td>";
  double l = std::clamp(lo, 0.0, 1.0) * 100, h = std::clamp(hi, 0.0, 1.0) * 100;
  return fmt::format(
      "<td title=\"95% CI {}\"><div class=\"ci\"><span class=\"range\" style=\"left:{:.2f}%;"
      "width:{:.2f}%\"></span><span class=\"pt\" style=\"left:{:.2f}%\"></span></div></td>",
      html_escape(range), l, std::max(h - l, 0.5), v * 100);
}

std::string score_table(const Json& results, const std::string& column) {
  auto rows = report_text::score_rows(results, column);
  if (rows.empty()) return "";
  std::string out = "<table class=\"scores\"><thead><tr><th>" +
                    std::string(column == "groups" ? "Group" : "Task") +
                    "</th><th>Version</th><th>Filter</th><th>n-shot</th><th>Metric</th><th></th>"
                    "<th>Value</th><th>Stderr</th><th>95% CI</th></tr></thead><tbody>\n";
  for (const auto& r : rows) {
    std::string se = "";
    if (r.has_stderr) {
      se = r.stderr_value.is_number() ? "± " + fixed(r.stderr_value.get<double>(), 4)
                                      : text_of(r.stderr_value);
    }
    out += "<tr><td class=\"name\">" + html_escape(r.name) + "</td><td class=\"num\">" +
           html_escape(r.version) + "</td><td>" + html_escape(r.filter) +
           "</td><td class=\"num\">" + html_escape(r.n_shot) + "</td><td>" + html_escape(r.metric) +
           "</td><td>" + html_escape(r.arrow) + "</td><td class=\"num\">" +
           html_escape(number_text(r.value, 4)) + "</td><td class=\"num\">" + html_escape(se) +
           "</td>" + ci_cell(r.value, r.has_stderr ? r.stderr_value : Json(), r.metric) + "</tr>\n";
  }
  return out + "</tbody></table>\n";
}

std::string kv_list(const std::vector<std::pair<std::string, std::string>>& items) {
  std::string out = "<dl class=\"kv\">";
  for (const auto& [k, v] : items) {
    out += "<dt>" + html_escape(k) + "</dt><dd>" + html_escape(v) + "</dd>";
  }
  return out + "</dl>\n";
}

// A prompt as readable text: a chat context (a JSON message list, possibly wrapped in the
// one-element array lm-eval logs for a JsonChatStr) becomes "[role]\ncontent" blocks.
std::string prompt_text(const Json& arg0) {
  Json a = arg0;
  if (a.is_array() && a.size() == 1 && a[0].is_string()) a = a[0];
  if (!a.is_string()) return text_of(a);
  const std::string& s = a.get_ref<const std::string&>();
  if (!s.empty() && s.front() == '[') {
    Json parsed = Json::parse(s, nullptr, false);
    if (parsed.is_array() && !parsed.empty() && parsed[0].is_object() &&
        parsed[0].contains("role")) {
      std::string out;
      for (const auto& m : parsed) {
        if (!out.empty()) out += "\n\n";
        out += "[" + text_of(member(m, "role")) + "]\n" + text_of(member(m, "content"));
      }
      return out;
    }
  }
  return s;
}

// "✓" / "✗" for the first metric of a record when it reads as correct / wrong.
std::string verdict(const Json& rec) {
  const Json& metrics = member(rec, "metrics");
  if (!metrics.is_array() || metrics.empty() || !metrics[0].is_string()) return "";
  const Json& v = member(rec, metrics[0].get<std::string>());
  double d;
  if (v.is_boolean()) {
    d = v.get<bool>() ? 1 : 0;
  } else if (v.is_number()) {
    d = v.get<double>();
  } else {
    return "";
  }
  if (d == 1) return "<span class=\"ok\">✓</span>";
  if (d == 0) return "<span class=\"bad\">✗</span>";
  return "";
}

std::string sample_block(const std::vector<const Json*>& recs) {
  const Json& first = *recs[0];
  std::string summary = "doc " + html_escape(text_of(member(first, "doc_id")));
  for (const auto* r : recs) {
    summary += " · " + html_escape(text_of(member(*r, "filter"))) + " " + verdict(*r);
    const Json& names = member(*r, "metrics");
    if (names.is_array()) {
      for (const auto& n : names) {
        if (!n.is_string()) continue;
        summary += " <span class=\"muted\">" + html_escape(n.get<std::string>()) + "=" +
                   html_escape(number_text(member(*r, n.get<std::string>()), 4)) + "</span>";
      }
    }
  }
  const Json& retort = member(first, "retort");
  if (member(retort, "failed").is_boolean() && member(retort, "failed").get<bool>()) {
    summary += " <span class=\"badge bad\">request failed</span>";
  }
  std::string out = "<details class=\"sample\"><summary>" + summary + "</summary>\n";

  const Json& args = member(first, "arguments");
  const Json& resps = member(first, "resps");
  if (args.is_object() && !args.empty()) {
    const Json& a0 = member(args.begin().value(), "arg_0");
    out += "<div class=\"label\">Prompt</div><pre>" + html_escape(prompt_text(a0)) + "</pre>\n";
    bool continuations = args.size() > 1 || member(args.begin().value(), "arg_1").is_string();
    if (continuations) {
      // Loglikelihood requests: one row per continuation with its logged response.
      out +=
          "<table><thead><tr><th>#</th><th>Continuation</th><th>Response</th></tr></thead>"
          "<tbody>";
      size_t i = 0;
      for (const auto& [k, a] : args.items()) {
        std::string resp = resps.is_array() && i < resps.size() ? text_of(resps[i]) : "";
        out += "<tr><td class=\"num\">" + std::to_string(i) + "</td><td><pre>" +
               html_escape(text_of(member(a, "arg_1"))) + "</pre></td><td><pre>" +
               html_escape(resp) + "</pre></td></tr>";
        ++i;
      }
      out += "</tbody></table>\n";
    } else {
      out += "<div class=\"label\">Generation settings</div><pre>" +
             html_escape(text_of(member(args.begin().value(), "arg_1"))) + "</pre>\n";
      if (resps.is_array()) {
        for (const auto& per_request : resps) {
          if (!per_request.is_array()) continue;
          size_t rep = 0;
          for (const auto& r : per_request) {
            std::string label = per_request.size() > 1
                                    ? "Response (repeat " + std::to_string(rep) + ")"
                                    : std::string("Response");
            out += "<div class=\"label\">" + label + "</div><pre>" + html_escape(text_of(r)) +
                   "</pre>\n";
            ++rep;
          }
        }
      }
    }
  }
  for (const auto* r : recs) {
    // A single filtered answer (the usual take_first case) shows as plain text.
    const Json& filtered = member(*r, "filtered_resps");
    std::string shown = filtered.is_array() && filtered.size() == 1 && filtered[0].is_string()
                            ? filtered[0].get<std::string>()
                            : text_of(filtered);
    out += "<div class=\"label\">Filtered (" + html_escape(text_of(member(*r, "filter"))) +
           ")</div><pre>" + html_escape(shown) + "</pre>\n";
  }
  out += "<div class=\"label\">Target</div><pre>" + html_escape(text_of(member(first, "target"))) +
         "</pre>\n";
  out += "<details><summary class=\"muted\">Doc</summary><pre>" +
         html_escape(py_json_dumps(member(first, "doc"), 2, false)) + "</pre></details>\n";
  const Json& responses = member(retort, "responses");
  if (responses.is_array()) {
    std::string errors;
    for (const auto& per_request : responses) {
      if (!per_request.is_array()) continue;
      for (const auto& r : per_request) {
        if (member(r, "error").is_string()) errors += text_of(member(r, "error")) + "\n";
      }
    }
    if (!errors.empty()) {
      out += "<div class=\"label bad\">Errors</div><pre>" + html_escape(errors) + "</pre>\n";
    }
  }
  return out + "</details>\n";
}

std::string samples_section(const std::map<std::string, std::vector<Json>>& samples,
                            size_t max_samples) {
  if (samples.empty()) return "";
  std::string out = "<h2>Samples</h2>\n";
  for (const auto& [task, records] : samples) {
    // Records are filter-major; gather each doc's records across filters, docs in order.
    std::vector<std::string> order;
    std::map<std::string, std::vector<const Json*>> by_doc;
    for (const auto& rec : records) {
      std::string id = text_of(member(rec, "doc_id"));
      auto it = by_doc.find(id);
      if (it == by_doc.end()) {
        if (order.size() >= max_samples) continue;
        order.push_back(id);
      }
      by_doc[id].push_back(&rec);
    }
    out += "<details class=\"task\"><summary>" + html_escape(task) + " <span class=\"muted\">(" +
           std::to_string(order.size()) + " shown)</span></summary>\n";
    for (const auto& id : order) out += sample_block(by_doc[id]);
    out += "</details>\n";
  }
  return out;
}

std::string stats_section(const Json& stats_json_obj) {
  if (!stats_json_obj.is_object()) return "";
  RunStats s = stats_from_json(stats_json_obj);
  int64_t sent = s.succeeded + s.failed;
  std::vector<std::pair<std::string, std::string>> items = {
      {"Requests", group_thousands(s.total)},
      {"Succeeded", group_thousands(s.succeeded)},
      {"Failed", group_thousands(s.failed)},
      {"Cached", group_thousands(s.cached)},
      {"Retries", group_thousands(s.retries)},
      {"Timeouts",
       group_thousands(s.timeouts) +
           (s.stalls > 0 ? " (+" + group_thousands(s.stalls) + " stalled streams)" : "")},
      {"Input tokens", group_thousands(s.prompt_tokens)},
      {"Output tokens", group_thousands(s.completion_tokens)},
      {"Total time", format_hms(s.elapsed_s) + " (" + fixed(s.elapsed_s, 2) + "s)"},
      {"Average time per request", sent > 0 ? fixed(s.elapsed_s / sent, 2) + "s" : "N/A"},
      {"Requests per minute", fixed(s.requests_per_min(), 1)},
      {"Tokens per second", fixed(s.tokens_per_s(), 1)},
      {"Latency p50 / p90 / p99", fixed(s.latency_p50_s, 2) + "s / " + fixed(s.latency_p90_s, 2) +
                                      "s / " + fixed(s.latency_p99_s, 2) + "s"},
  };
  return "<h2>Run statistics</h2>\n" + kv_list(items);
}

std::string local_time_text(double unix_seconds) {
  if (unix_seconds <= 0) return "";
  std::time_t t = static_cast<std::time_t>(unix_seconds);
  std::tm tm{};
  localtime_r(&t, &tm);
  char buf[64];
  std::strftime(buf, sizeof buf, "%Y-%m-%d %H:%M:%S %Z", &tm);
  return buf;
}

}  // namespace

std::string render_html(const Json& results,
                        const std::map<std::string, std::vector<Json>>& samples,
                        size_t max_samples) {
  const std::string model = text_of(member(results, "model_name"));
  const Json& retort = member(results, "retort");
  std::string out =
      "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n"
      "<meta name=\"viewport\" content=\"width=device-width,initial-scale=1\">\n"
      "<title>retort report: " +
      html_escape(model) + "</title>\n<style>" + kStyle + "</style></head><body>\n";
  out += "<h1>retort report</h1>\n<p class=\"sub\">" + html_escape(model);
  const Json& date = member(results, "date");
  if (date.is_number()) out += " · " + html_escape(local_time_text(date.get<double>()));
  const Json& total = member(results, "total_evaluation_time_seconds");
  if (total.is_string()) {
    double secs = std::atof(total.get<std::string>().c_str());
    out += " · " + format_hms(secs);
  }
  const Json& complete = member(retort, "complete");
  const Json& interrupted = member(retort, "interrupted");
  if (interrupted.is_boolean() && interrupted.get<bool>()) {
    out += " <span class=\"badge bad\">interrupted: partial results</span>";
  } else if (complete.is_boolean()) {
    out += complete.get<bool>() ? " <span class=\"badge ok\">complete</span>"
                                : " <span class=\"badge bad\">incomplete: some requests failed"
                                  "</span>";
  }
  out += "</p>\n";

  out += "<h2>Scores</h2>\n" + score_table(results, "results");
  if (results.contains("groups")) out += "<h3>Groups</h3>\n" + score_table(results, "groups");

  out += stats_section(member(retort, "stats"));

  out += "<h2>Configuration</h2>\n";
  std::vector<std::pair<std::string, std::string>> run_items;
  for (const char* k : {"model_source", "model_name", "system_instruction", "fewshot_as_multiturn",
                        "chat_template_sha", "git_hash"}) {
    const Json& v = member(results, k);
    if (!v.is_null()) run_items.push_back({k, text_of(v)});
  }
  out += kv_list(run_items);
  const Json& config = member(results, "config");
  if (!config.is_null()) {
    out += "<pre>" + html_escape(py_json_dumps(strip_secrets(config), 2, false)) + "</pre>\n";
  }
  const Json& configs = member(results, "configs");
  if (configs.is_object() && !configs.empty()) {
    out += "<details><summary>Task configurations</summary>\n";
    for (const auto& [name, cfg] : configs.items()) {
      out += "<h3>" + html_escape(name) + "</h3><pre>" +
             html_escape(py_json_dumps(strip_secrets(cfg), 2, false)) + "</pre>\n";
    }
    out += "</details>\n";
  }

  out += samples_section(samples, max_samples);
  out += "<p class=\"sub\">Generated by retort.</p>\n</body></html>\n";
  return log::redact(out);
}

std::string render_html(const RunResult& run, size_t max_samples) {
  std::map<std::string, std::vector<Json>> samples;
  for (const auto& t : run.tasks) {
    if (t.samples.empty()) continue;
    auto& recs = samples[t.name];
    size_t n = std::min(max_samples, t.samples.size());
    size_t filters = 0;
    for (size_t i = 0; i < n; ++i) filters = std::max(filters, t.samples[i].filtered.size());
    for (size_t f = 0; f < std::max<size_t>(filters, 1); ++f) {
      for (size_t i = 0; i < n; ++i) {
        if (f < t.samples[i].filtered.size() || filters == 0) {
          recs.push_back(sample_record(t.samples[i], f));
        }
      }
    }
  }
  return render_html(results_json(run, false), samples, max_samples);
}

}  // namespace retort
