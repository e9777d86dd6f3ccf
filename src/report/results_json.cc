// The results document, in lm-evaluation-harness's schema and key order
// (evaluator_utils.py:EvalAcc._to_eval_results, evaluator.py:simple_evaluate,
// loggers/evaluation_tracker.py:save_results_aggregated), then retort's own section.
#include <algorithm>
#include <cmath>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "report/report.h"
#include "util/hash.h"
#include "util/log.h"
#include "util/pyvalue.h"
#include "util/strings.h"

namespace retort {

namespace {

// A metric's aggregate as lm-eval stores it: floats, except bypass (the int 999).
Json metric_value_json(const MetricValue& m) {
  if (m.metric == "bypass" && std::isfinite(m.value) && m.value == std::floor(m.value)) {
    return static_cast<int64_t>(m.value);
  }
  return m.value;
}

std::string metric_key(const MetricValue& m) {
  return m.metric + "," + m.filter;
}
std::string stderr_key(const MetricValue& m) {
  return m.metric + "_stderr," + m.filter;
}

void add_metrics(Json& entry, const std::vector<MetricValue>& metrics) {
  for (const auto& m : metrics) {
    entry[metric_key(m)] = metric_value_json(m);
    entry[stderr_key(m)] = m.stderr_value ? Json(*m.stderr_value) : Json("N/A");
  }
}

Json sorted_object(const std::map<std::string, Json>& m) {
  Json out = Json::object();
  for (const auto& [k, v] : m) out[k] = v;  // std::map iterates in byte order, like sorted()
  return out;
}

// The run's groups, indexed by name, with the leaf tasks under each.
class GroupTree {
 public:
  explicit GroupTree(const RunResult& run) : run_(run) {
    for (size_t i = 0; i < run.groups.size(); ++i) group_index_[run.groups[i].name] = i;
    for (size_t i = 0; i < run.tasks.size(); ++i) task_index_[run.tasks[i].name] = i;
  }

  // lm-eval's aggregate_groups order: post-order from the root groups (those that are
  // nobody's child), children before parents.
  std::vector<const GroupResult*> bottom_up() const {
    std::set<std::string> children;
    for (const auto& g : run_.groups) {
      for (const auto& c : g.subtasks) {
        if (group_index_.count(c)) children.insert(c);
      }
    }
    std::vector<const GroupResult*> out;
    std::set<std::string> visited;
    for (const auto& g : run_.groups) {
      if (!children.count(g.name)) visit(g, visited, out);
    }
    // Cycles leave groups unvisited; keep them rather than lose them.
    for (const auto& g : run_.groups) {
      if (!visited.count(g.name)) visit(g, visited, out);
    }
    return out;
  }

  std::vector<const TaskResult*> leaf_tasks(const GroupResult& g) const {
    std::vector<const TaskResult*> out;
    std::set<std::string> seen;
    collect_leaves(g, out, seen);
    return out;
  }

 private:
  void visit(const GroupResult& g, std::set<std::string>& visited,
             std::vector<const GroupResult*>& out) const {
    if (visited.count(g.name)) return;
    visited.insert(g.name);
    for (const auto& c : g.subtasks) {
      auto it = group_index_.find(c);
      if (it != group_index_.end()) visit(run_.groups[it->second], visited, out);
    }
    out.push_back(&g);
  }

  void collect_leaves(const GroupResult& g, std::vector<const TaskResult*>& out,
                      std::set<std::string>& seen) const {
    if (seen.count(g.name)) return;
    seen.insert(g.name);
    for (const auto& c : g.subtasks) {
      if (auto t = task_index_.find(c); t != task_index_.end()) {
        out.push_back(&run_.tasks[t->second]);
      } else if (auto s = group_index_.find(c); s != group_index_.end()) {
        collect_leaves(run_.groups[s->second], out, seen);
      }
    }
  }

  const RunResult& run_;
  std::map<std::string, size_t> group_index_;
  std::map<std::string, size_t> task_index_;
};

Json task_entry(const TaskResult& t) {
  Json e = Json::object();
  e["name"] = t.name;
  e["alias"] = t.alias.empty() ? t.name : t.alias;
  e["sample_len"] = t.sample_len;
  add_metrics(e, t.metrics);
  // Other harnesses' names for the same scores (Evalchemy's accuracy_avg, ...), beside.
  if (t.extra_results.is_object())
    for (const auto& [k, v] : t.extra_results.items())
      if (!e.contains(k)) e[k] = v;
  return e;
}

// api/group.py:Group.aggregate: alias, name, then (aggregating groups only) sample_len, the
// metric keys, and sample_count.
Json group_entry(const GroupResult& g, const GroupTree& tree) {
  Json e = Json::object();
  e["alias"] = g.alias.empty() ? g.name : g.alias;
  e["name"] = g.name;
  if (g.metrics.empty()) return e;
  auto leaves = tree.leaf_tasks(g);
  int64_t sample_len = 0;
  for (const auto* t : leaves) sample_len += t->scored_len();
  e["sample_len"] = leaves.empty() ? g.sample_len : sample_len;
  add_metrics(e, g.metrics);
  Json counts = Json::object();
  for (const auto& m : g.metrics) {
    int64_t n = 0;
    bool any = false;
    for (const auto* t : leaves) {
      for (const auto& tm : t->metrics) {
        if (tm.metric == m.metric && tm.filter == m.filter) {
          n += t->scored_len();
          any = true;
          break;
        }
      }
    }
    counts[metric_key(m)] = any ? n : g.sample_len;
  }
  if (!counts.empty()) e["sample_count"] = counts;
  return e;
}

// task.higher_is_better(): one entry per metric name, in metric_list order.
Json task_higher_is_better(const TaskResult& t) {
  Json h = Json::object();
  for (const auto& m : t.metrics) {
    if (!h.contains(m.metric)) h[m.metric] = m.higher_is_better;
  }
  return h;
}

Json drop_nulls(const Json& config) {
  if (!config.is_object()) return config;
  Json out = Json::object();
  for (const auto& [k, v] : config.items()) {
    if (!v.is_null()) out[k] = v;
  }
  return out;
}

std::string lower_underscored(std::string_view key) {
  std::string k = to_lower(key);
  std::replace(k.begin(), k.end(), '-', '_');
  return k;
}

// "k=v,k2=v2" with the secret pairs removed.
std::string strip_secret_args(const std::string& args) {
  if (args.find('=') == std::string::npos) return args;
  std::vector<std::string> kept;
  for (const auto& part : split(args, ',')) {
    auto eq = part.find('=');
    std::string key = trim(eq == std::string::npos ? part : part.substr(0, eq));
    if (!is_secret_key(key)) kept.push_back(part);
  }
  return join(kept, ",");
}

Json strip_secrets_in(const Json& v, std::string_view parent_key) {
  if (v.is_object()) {
    Json out = Json::object();
    for (const auto& [k, child] : v.items()) {
      if (is_secret_key(k)) continue;
      out[k] = strip_secrets_in(child, k);
    }
    return out;
  }
  if (v.is_array()) {
    Json out = Json::array();
    for (const auto& child : v) out.push_back(strip_secrets_in(child, parent_key));
    return out;
  }
  if (v.is_string() && lower_underscored(parent_key) == "model_args") {
    return strip_secret_args(v.get<std::string>());
  }
  return v;
}

}  // namespace

bool is_secret_key(std::string_view key) {
  static const char* const kExact[] = {"key",    "token", "auth",   "secret", "password",
                                       "passwd", "pwd",   "cookie", "bearer", "authorization"};
  static const char* const kContains[] = {
      "api_key",       "apikey",        "secret",        "password",    "passwd",
      "authorization", "access_token",  "auth_token",    "hf_token",    "bearer",
      "credential",    "session_token", "refresh_token", "private_key", "access_key",
      "id_token",      "api_token",     "x_api_key",     "proxy_auth"};
  std::string k = lower_underscored(key);
  for (const char* e : kExact) {
    if (k == e) return true;
  }
  for (const char* c : kContains) {
    if (k.find(c) != std::string::npos) return true;
  }
  return false;
}

Json strip_secrets(const Json& v) {
  return strip_secrets_in(v, "");
}

std::string eval_version(const Json& task_config, std::string_view scorer_version) {
  // Hashes what the results file's "configs" entry holds, so that a run and its results
  // file give the same value.
  return sha256_hex(strip_secrets(drop_nulls(task_config)).dump()).substr(0, 12) + "-s" +
         std::string(scorer_version);
}

Json stats_json(const RunStats& s) {
  Json j = Json::object();
  j["total"] = s.total;
  j["cached"] = s.cached;
  j["succeeded"] = s.succeeded;
  j["failed"] = s.failed;
  j["in_flight"] = s.in_flight;
  j["retries"] = s.retries;
  j["http_calls"] = s.http_calls;
  j["prompt_tokens"] = s.prompt_tokens;
  j["completion_tokens"] = s.completion_tokens;
  j["elapsed_s"] = s.elapsed_s;
  j["requests_per_min"] = s.requests_per_min();
  j["tokens_per_s"] = s.tokens_per_s();
  j["latency_p50_s"] = s.latency_p50_s;
  j["latency_p90_s"] = s.latency_p90_s;
  j["latency_p99_s"] = s.latency_p99_s;
  j["ttft_p50_s"] = s.ttft_p50_s;
  // Written when they say something, so that runs without them keep their old shape.
  if (s.ttft_p50_s >= 0) {
    j["ttft_p90_s"] = s.ttft_p90_s;
    j["ttft_p99_s"] = s.ttft_p99_s;
  }
  if (s.tpot_p50_s >= 0) {
    j["tpot_p50_s"] = s.tpot_p50_s;
    j["tpot_p90_s"] = s.tpot_p90_s;
    j["tpot_p99_s"] = s.tpot_p99_s;
  }
  // Curator's rate-limit and cost rows.
  j["tokens_per_min"] = s.tokens_per_min();
  j["rpm_limit"] = s.rpm_limit > 0 ? Json(s.rpm_limit) : Json();
  j["tpm_limit"] = s.tpm_limit > 0 ? Json(s.tpm_limit) : Json();
  const double cost = s.cost_usd();
  j["cost_usd"] = cost >= 0 ? Json(cost) : Json();
  j["price"] = s.price_input_per_mtok >= 0 ? Json{{"model", s.price_model},
                                                  {"input_per_mtok", s.price_input_per_mtok},
                                                  {"output_per_mtok", s.price_output_per_mtok}}
                                           : Json();
  j["local_server"] = s.local_server;
  if (!s.series.empty()) {
    // Columns, to keep the file small.
    Json t = Json::array(), done = Json::array(), flight = Json::array(), tok = Json::array(),
         ttft = Json::array();
    for (const auto& p : s.series) {
      t.push_back(std::round(p.t_s * 1000.0) / 1000.0);
      done.push_back(p.done);
      flight.push_back(p.in_flight);
      tok.push_back(std::round(p.tokens_per_s * 10.0) / 10.0);
      ttft.push_back(p.ttft_p50_s >= 0 ? Json(std::round(p.ttft_p50_s * 1e4) / 1e4) : Json());
    }
    j["series"] = Json{{"t_s", t},
                       {"done", done},
                       {"in_flight", flight},
                       {"output_tokens_per_s", tok},
                       {"ttft_p50_s", ttft}};
  }
  if (s.throttled > 0) j["throttled"] = s.throttled;
  if (s.timeouts > 0) j["timeouts"] = s.timeouts;
  if (s.stalls > 0) j["stalls"] = s.stalls;
  if (s.truncated > 0) j["truncated"] = s.truncated;
  // Reasoning: token counts only from servers that report them; characters always.
  if (s.reasoning_replies > 0 || s.reasoning_token_replies > 0) {
    j["reasoning_tokens"] = s.reasoning_token_replies > 0 ? Json(s.reasoning_tokens) : Json();
    j["reasoning_token_replies"] = s.reasoning_token_replies;
    j["reasoning_chars"] = s.reasoning_chars;
    j["reasoning_replies"] = s.reasoning_replies;
  }
  return j;
}

RunStats stats_from_json(const Json& j) {
  RunStats s;
  if (!j.is_object()) return s;
  auto i64 = [&](const char* k, int64_t& out) {
    if (j.contains(k) && j[k].is_number()) out = j[k].get<int64_t>();
  };
  auto dbl = [&](const char* k, double& out) {
    if (j.contains(k) && j[k].is_number()) out = j[k].get<double>();
  };
  i64("total", s.total);
  i64("cached", s.cached);
  i64("succeeded", s.succeeded);
  i64("failed", s.failed);
  i64("in_flight", s.in_flight);
  i64("retries", s.retries);
  i64("http_calls", s.http_calls);
  i64("throttled", s.throttled);
  i64("timeouts", s.timeouts);
  i64("stalls", s.stalls);
  i64("truncated", s.truncated);
  i64("reasoning_tokens", s.reasoning_tokens);
  i64("reasoning_token_replies", s.reasoning_token_replies);
  i64("reasoning_chars", s.reasoning_chars);
  i64("reasoning_replies", s.reasoning_replies);
  i64("prompt_tokens", s.prompt_tokens);
  i64("completion_tokens", s.completion_tokens);
  dbl("elapsed_s", s.elapsed_s);
  dbl("latency_p50_s", s.latency_p50_s);
  dbl("latency_p90_s", s.latency_p90_s);
  dbl("latency_p99_s", s.latency_p99_s);
  dbl("ttft_p50_s", s.ttft_p50_s);
  dbl("ttft_p90_s", s.ttft_p90_s);
  dbl("ttft_p99_s", s.ttft_p99_s);
  dbl("tpot_p50_s", s.tpot_p50_s);
  dbl("tpot_p90_s", s.tpot_p90_s);
  dbl("tpot_p99_s", s.tpot_p99_s);
  dbl("rpm_limit", s.rpm_limit);
  dbl("tpm_limit", s.tpm_limit);
  if (j.contains("price") && j["price"].is_object()) {
    const Json& p = j["price"];
    s.price_model = p.value("model", std::string());
    s.price_input_per_mtok = p.value("input_per_mtok", -1.0);
    s.price_output_per_mtok = p.value("output_per_mtok", -1.0);
  }
  if (j.contains("local_server") && j["local_server"].is_boolean())
    s.local_server = j["local_server"].get<bool>();
  if (j.contains("series") && j["series"].is_object()) {
    const Json& c = j["series"];
    auto col = [&](const char* k) -> const Json* {
      return c.contains(k) && c[k].is_array() ? &c[k] : nullptr;
    };
    const Json *t = col("t_s"), *done = col("done"), *flight = col("in_flight"),
               *tok = col("output_tokens_per_s"), *ttft = col("ttft_p50_s");
    if (t && done && flight && tok && ttft) {
      const size_t n =
          std::min({t->size(), done->size(), flight->size(), tok->size(), ttft->size()});
      for (size_t i = 0; i < n; ++i) {
        SeriesPoint p;
        p.t_s = (*t)[i].is_number() ? (*t)[i].get<double>() : 0.0;
        p.done = (*done)[i].is_number() ? (*done)[i].get<int64_t>() : 0;
        p.in_flight = (*flight)[i].is_number() ? (*flight)[i].get<int64_t>() : 0;
        p.tokens_per_s = (*tok)[i].is_number() ? (*tok)[i].get<double>() : 0.0;
        p.ttft_p50_s = (*ttft)[i].is_number() ? (*ttft)[i].get<double>() : -1.0;
        s.series.push_back(p);
      }
    }
  }
  return s;
}

Json results_json(const RunResult& run, bool with_task_hashes) {
  GroupTree tree(run);
  auto groups_bottom_up = tree.bottom_up();

  Json out = Json::object();

  Json results = Json::object();
  for (const auto& t : run.tasks) results[t.name] = task_entry(t);
  Json groups = Json::object();
  for (const auto* g : groups_bottom_up) {
    Json e = group_entry(*g, tree);
    results[g->name] = e;
    if (!g->metrics.empty() || g->score_withheld) groups[g->name] = e;
  }
  out["results"] = results;
  if (!groups.empty()) out["groups"] = groups;

  Json subtasks = Json::object();
  for (const auto& g : run.groups) subtasks[g.name] = g.subtasks;
  out["group_subtasks"] = subtasks;

  std::map<std::string, Json> configs, versions, n_shot, higher;
  for (const auto& t : run.tasks) {
    configs[t.name] = strip_secrets(drop_nulls(t.config));
    versions[t.name] = t.version;
    n_shot[t.name] = t.num_fewshot;
    higher[t.name] = task_higher_is_better(t);
  }
  for (const auto* g : groups_bottom_up) {
    versions[g->name] = g->version.is_null() ? Json("N/A") : Json(py_str(g->version));
  }
  // _propagate_num_fewshot / _propagate_higher_is_better, over the groups in their listed
  // order, from the direct children.
  for (const auto& g : run.groups) {
    std::set<std::string> seen_values;
    Json value;
    for (const auto& c : g.subtasks) {
      auto it = n_shot.find(c);
      if (it == n_shot.end()) continue;
      seen_values.insert(it->second.dump());
      value = it->second;
    }
    if (seen_values.size() == 1) n_shot[g.name] = value;

    Json h = Json::object();
    for (const auto& c : g.subtasks) {
      auto it = higher.find(c);
      if (it == higher.end()) continue;
      for (const auto& [m, v] : it->second.items()) {
        if (!h.contains(m)) {
          h[m] = v;
        } else if (!h[m].is_null() && h[m] != v) {
          log::warn(
              "higher_is_better values for metric {} in group {} are not consistent; "
              "using null",
              m, g.name);
          h[m] = nullptr;
        }
      }
    }
    if (!h.empty()) higher[g.name] = h;
  }
  out["configs"] = sorted_object(configs);
  out["versions"] = sorted_object(versions);
  out["n-shot"] = sorted_object(n_shot);
  out["higher_is_better"] = sorted_object(higher);

  Json n_samples = Json::object();
  for (const auto& t : run.tasks) {
    // effective: the docs the score stands on (lm-eval: after --limit; here also after
    // failed requests, so a partial score cannot pass for a complete one).
    n_samples[t.name] = Json{{"original", t.original_len}, {"effective", t.scored_len()}};
  }
  out["n-samples"] = n_samples;

  out["config"] = strip_secrets(run.config);
  out["git_hash"] = run.git_hash ? Json(*run.git_hash) : Json();
  out["date"] = run.start_time;

  Json hashes = Json::object();
  if (with_task_hashes) {
    for (const auto& t : run.tasks) {
      if (!t.samples.empty()) hashes[t.name] = task_hash(t);
    }
  }
  out["task_hashes"] = hashes;

  const std::string model_name = run.model_name;
  out["model_source"] = run.model_source;
  out["model_name"] = model_name;
  out["model_name_sanitized"] = sanitize_model_name(model_name);
  if (run.system_instruction.empty()) {
    out["system_instruction"] = nullptr;
    out["system_instruction_sha"] = nullptr;
  } else {
    out["system_instruction"] = run.system_instruction;
    out["system_instruction_sha"] = sha256_hex(run.system_instruction);
  }
  out["fewshot_as_multiturn"] = run.fewshot_as_multiturn;
  out["chat_template"] = run.chat_template ? Json(*run.chat_template) : Json();
  out["chat_template_sha"] = run.chat_template && !run.chat_template->empty()
                                 ? Json(sha256_hex(*run.chat_template))
                                 : Json();
  out["total_evaluation_time_seconds"] = py_float_repr(run.total_seconds);

  Json r = Json::object();
  r["version"] = "0.1.0";
  r["complete"] = run.complete;
  r["interrupted"] = run.interrupted;
  r["predict_only"] = run.predict_only;
  r["start_time"] = run.start_time;
  r["end_time"] = run.start_time + run.total_seconds;
  r["stats"] = stats_json(run.stats);
  Json failed = Json::object();
  for (const auto& t : run.tasks) {
    if (t.failed_samples > 0) failed[t.name] = t.failed_samples;
  }
  r["failed_samples"] = failed;
  Json eval_versions = Json::object();
  for (const auto& t : run.tasks)
    if (!t.eval_version.empty()) eval_versions[t.name] = t.eval_version;
  if (!eval_versions.empty()) r["eval_versions"] = eval_versions;
  // Tasks and groups whose scores stand on fewer docs than were planned (or were withheld
  // by --require_complete): the tables, report and `retort report` mark them from here.
  Json partial = Json::object();
  for (const auto& t : run.tasks) {
    if (t.failed_samples == 0) continue;
    partial[t.name] =
        Json{{"scored", t.scored_len()}, {"docs", t.sample_len}, {"withheld", t.score_withheld}};
  }
  for (const auto& g : run.groups) {
    if (g.failed_samples == 0) continue;
    partial[g.name] = Json{{"scored", g.sample_len - g.failed_samples},
                           {"docs", g.sample_len},
                           {"withheld", g.score_withheld}};
  }
  r["partial"] = partial;
  // Replies cut at the token limit, replies with no final answer (math tasks), and docs
  // left out before planning with the reason: per task, only where there are any.
  Json truncated = Json::object(), no_answer = Json::object(), skipped = Json::object();
  for (const auto& t : run.tasks) {
    if (t.truncated > 0)
      truncated[t.name] = Json{{"truncated", t.truncated}, {"replies", t.replies}};
    if (t.no_answer) no_answer[t.name] = Json{{"no_answer", *t.no_answer}, {"replies", t.replies}};
    if (!t.skipped.empty()) {
      Json list = Json::array();
      for (const auto& [reason, n] : t.skipped)
        list.push_back(Json{{"count", n}, {"reason", reason}});
      skipped[t.name] = std::move(list);
    }
  }
  // Written only when there is something to say, so other runs keep their shape.
  if (!truncated.empty()) r["truncated"] = truncated;
  if (!no_answer.empty()) r["no_answer"] = no_answer;
  if (!skipped.empty()) r["skipped"] = skipped;
  out["retort"] = r;
  return out;
}

std::string results_json_text(const RunResult& run, bool with_task_hashes) {
  return log::redact(py_json_dumps(results_json(run, with_task_hashes), 2, false));
}

}  // namespace retort
