// `retort rescore RUN`: scores a recorded run again with the current tasks and scorer, from
// the responses the results database kept, without asking any server. The run is planned
// again from what it recorded (tasks, few-shot, chat settings, limit, ...); each doc must
// be the same doc asked with the same prompt, else rescoring would score answers to another
// question and the command refuses, naming the task and doc. The result is recorded as a
// new run (the old one stays), so `retort compare OLD NEW` shows what the rescoring changed.
#include <fmt/format.h>
#include <CLI/CLI.hpp>

#include <chrono>
#include <cstdio>
#include <map>
#include <tuple>

#include "cli/commands.h"
#include "cli/run_pipeline.h"
#include "report/report.h"
#include "store/store.h"
#include "util/error.h"
#include "util/strings.h"

namespace retort::cli {

namespace {

// A stored sample's responses as the engine would have given them. The store keeps one
// generated text as itself and anything else (several texts, loglikelihood pairs) as a
// JSON list in plan order; the count the plan expects says which form to read.
std::vector<Response> parse_stored_responses(const store::StoredSample& s,
                                             const std::vector<RequestKind>& kinds, int repeats,
                                             const std::string& where) {
  const size_t want = kinds.size() * static_cast<size_t>(repeats);
  std::vector<Response> out(want);
  if (s.failed) {
    // A failed doc stays failed: it is left out of every score, as in the run.
    std::string error = s.finish_reason;
    if (starts_with(error, "error: ")) error = error.substr(7);
    for (auto& r : out) {
      r.ok = false;
      r.error = error.empty() ? "failed in the recorded run" : error;
    }
    return out;
  }
  Json list;
  if (want == 1 && kinds[0] == RequestKind::kGenerate) {
    list = Json::array({s.response});
  } else {
    try {
      list = Json::parse(s.response);
    } catch (const Json::parse_error&) {
      list = Json();
    }
    if (!list.is_array() || list.size() != want)
      throw Error(fmt::format("the stored response is not a list of {} responses", want), where,
                  "the task's requests changed since the run (choices, repeats); rerun it");
  }
  for (size_t i = 0; i < want; ++i) {
    const RequestKind kind = kinds[i / static_cast<size_t>(repeats)];
    const Json& v = list[i];
    Response& r = out[i];
    r.ok = true;
    r.cached = true;
    if (kind == RequestKind::kGenerate) {
      if (!v.is_string())
        throw Error("a stored response is not text where the plan generates", where,
                    "the task's output_type changed since the run; rerun it");
      r.text = v.get<std::string>();
    } else {
      if (!v.is_array() || v.size() != 2 || !v[0].is_number())
        throw Error("a stored response is not [loglikelihood, is_greedy]", where,
                    "the task's output_type changed since the run; rerun it");
      r.loglikelihood = v[0].get<double>();
      r.is_greedy = v[1].is_boolean() && v[1].get<bool>();
    }
  }
  out[0].finish_reason = s.finish_reason;
  return out;
}

std::string metric_text(const std::optional<double>& v) {
  return v ? fmt::format("{:.4f}", *v) : std::string("—");
}

}  // namespace

int cmd_rescore(const Args& args) {
  CLI::App app{
      "Score a recorded run again with the current task definitions and scorer, from the "
      "responses the results database kept (no server is asked). The result is recorded as "
      "a new run.",
      "retort rescore"};
  std::string db, ref, output_path;
  RescoreOptions ro;
  bool log_samples = false, dry_run = false;
  app.add_option("run", ref, "run id, unique prefix, latest or latest~N")->required();
  app.add_option("--db", db, "results database (file or postgresql:// URL)");
  app.add_option("--include_path,--include-path", ro.include_path,
                 "task folder searched before the ones the run used");
  app.add_option("--output_path,--output-path", output_path,
                 "also write results (and with --log_samples, samples) files here");
  app.add_flag("--log_samples,--log-samples", log_samples, "write samples files too");
  app.add_flag("--confirm_run_unsafe_code,--confirm-run-unsafe-code", ro.confirm_run_unsafe_code,
               "code tasks: run the stored programs in the sandbox again");
  app.add_flag("--dry-run", dry_run, "print the new scores without recording them");
  std::vector<std::string> rev(args.rbegin(), args.rend() - 1);
  try {
    app.parse(rev);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  }
  const std::string location = db.empty() ? store::default_db_location() : db;
  auto s = store::ResultsStore::open(location);
  const store::StoredRun old = s->load(s->resolve(ref), true);
  if (old.plan.empty())
    throw Error("run " + old.id + " was recorded without what rescoring needs", s->where(),
                "runs recorded by this retort can be rescored; rerun this one (answered "
                "requests come from the response cache)");

  // task -> doc id -> the stored sample (its first filter: all filters share the responses).
  std::map<std::string, std::map<int64_t, const store::StoredSample*>> by_doc;
  for (const auto& t : old.tasks)
    for (const auto& smp : t.samples) by_doc[t.name].try_emplace(smp.doc_id, &smp);

  auto lookup = [&](const std::string& task, const Sample& planned,
                    const std::vector<RequestKind>& kinds, int repeats) {
    const std::string where =
        fmt::format("run {}, task '{}', doc {}", old.id, task, planned.doc_id);
    auto t = by_doc.find(task);
    if (t == by_doc.end())
      throw Error("the run has no samples of task '" + task + "'", "run " + old.id,
                  "the task was not part of the run, or its samples were not recorded");
    auto d = t->second.find(planned.doc_id);
    if (d == t->second.end())
      throw Error("the run did not ask about this doc", where,
                  "the task's dataset or --limit changed since the run; rerun it");
    const store::StoredSample& smp = *d->second;
    if (!smp.doc_hash.empty() && smp.doc_hash != doc_hash(planned.doc))
      throw Error("the dataset's doc differs from the one the run asked about", where,
                  "the dataset changed since the run; rerun the task");
    if (!smp.prompt_hash.empty() && smp.prompt_hash != prompt_hash(planned))
      throw Error(
          "the prompt differs from the one the run sent (the task's template, few-shot "
          "examples or chat settings changed): its answers answer another prompt",
          where, "rerun the task; rescoring only re-reads answers to the same prompts");
    return parse_stored_responses(smp, kinds, repeats, where);
  };
  RunResult run = rescore_pipeline(old.plan, ro, lookup);
  run.model_name = old.model;
  run.model_source = old.model_source;
  run.config = old.config;
  run.stats = stats_from_json(old.stats);
  run.total_seconds = old.duration_s;
  run.start_time =
      std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
  if (old.status != "complete") run.complete = false;

  store::StoredRun fresh = store::stored_run_from(run, old.endpoint, old.status);
  fresh.stats = old.stats;  // how the responses were obtained: the original run's
  fresh.versions["rescored_from"] = old.id;
  // The store keeps only the length of a reasoning part; carry it over.
  std::map<std::tuple<std::string, std::string, int64_t>, const store::StoredSample*> before;
  for (const auto& t : old.tasks)
    for (const auto& smp : t.samples) before[{t.name, smp.filter, smp.doc_id}] = &smp;
  for (auto& t : fresh.tasks)
    for (auto& smp : t.samples) {
      auto it = before.find({t.name, smp.filter, smp.doc_id});
      if (it != before.end()) smp.thinking_chars = it->second->thinking_chars;
    }

  std::fputs((format_score_table(run) + "\n").c_str(), stdout);
  // What changed, task by task: the primary metric and the per-doc verdicts.
  for (const auto& t : fresh.tasks) {
    const store::StoredTask* was_task = old.task(t.name);
    if (!was_task || t.kind != "task") continue;
    std::optional<double> was, now;
    std::string metric = "(no metric)";
    if (!t.metrics.empty()) {
      const store::StoredMetric& m = t.metrics.front();
      metric = m.metric + "," + m.filter;
      now = m.value;
      for (const auto& bm : was_task->metrics)
        if (bm.metric == m.metric && bm.filter == m.filter) was = bm.value;
    }
    int64_t changed = 0, compared = 0;
    for (const auto& smp : t.samples) {
      auto it = before.find({t.name, smp.filter, smp.doc_id});
      if (it == before.end()) continue;
      ++compared;
      if (it->second->verdict != smp.verdict) ++changed;
    }
    std::printf("%s: %s %s -> %s; %lld of %lld verdicts changed; eval version %s -> %s\n",
                t.name.c_str(), metric.c_str(), metric_text(was).c_str(), metric_text(now).c_str(),
                static_cast<long long>(changed), static_cast<long long>(compared),
                was_task->eval_version.empty() ? "?" : was_task->eval_version.c_str(),
                t.eval_version.c_str());
  }
  if (!output_path.empty()) {
    OutputPaths paths = write_outputs(run, output_path, log_samples);
    std::printf("results: %s\n", paths.results_json.c_str());
    for (const auto& p : paths.samples_jsonl) std::printf("samples: %s\n", p.c_str());
  }
  if (dry_run) {
    std::printf("not recorded (--dry-run); rescored from run %s without asking the server\n",
                old.id.c_str());
    return 0;
  }
  std::string id = s->record(fresh);
  std::printf("run: %s (retort runs show %s), rescored from run %s without asking the server\n",
              id.c_str(), id.c_str(), old.id.c_str());
  return 0;
}

}  // namespace retort::cli
