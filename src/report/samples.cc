// Samples JSONL records as lm-eval logs them (evaluator.py:evaluate builds the record,
// loggers/evaluation_tracker.py:save_results_samples stringifies resps, filtered_resps and
// target and renames arguments), plus retort's per-request extras under "retort".
#include <string>
#include <string_view>
#include <vector>

#include "report/report.h"
#include "util/hash.h"
#include "util/log.h"
#include "util/pyvalue.h"

namespace retort {

namespace {

// lm_eval.utils.sanitize_list: lists (and tuples) keep their shape, every leaf becomes str().
Json sanitize_list(const Json& v) {
  if (v.is_array()) {
    Json out = Json::array();
    for (const auto& item : v) out.push_back(sanitize_list(item));
    return out;
  }
  return py_str(v);
}

// One Instance.resps entry, already str()-ed: generate -> the text, loglikelihood ->
// [str(ll), str(is_greedy)], rolling -> str(ll).
Json logged_response(RequestKind kind, const Response& r) {
  switch (kind) {
    case RequestKind::kGenerate:
      return r.text;
    case RequestKind::kLoglikelihood:
      return Json::array({py_float_repr(r.loglikelihood), r.is_greedy ? "True" : "False"});
    case RequestKind::kLoglikelihoodRolling:
      return py_float_repr(r.loglikelihood);
  }
  return r.text;
}

// Unicode characters (code points) of UTF-8 text.
int64_t char_count(std::string_view s) {
  int64_t n = 0;
  for (unsigned char c : s) n += (c & 0xC0) != 0x80;
  return n;
}

}  // namespace

// The characters of a reply's reasoning: the reasoning part a server's reasoning parser
// returned (reasoning_content) plus any "<think>...</think>" left in the text (everything
// before the last "</think>", or all of it when a "<think>" is never closed).
int64_t reasoning_chars(const Response& r) {
  int64_t n = char_count(r.reasoning);
  const std::string_view text = r.text;
  const size_t close = text.rfind("</think>");
  if (close != std::string_view::npos) {
    std::string_view before = text.substr(0, close);
    const size_t open = before.find("<think>");
    if (open != std::string_view::npos) before = before.substr(open + 7);
    n += char_count(before);
  } else if (const size_t open = text.find("<think>"); open != std::string_view::npos) {
    n += char_count(text.substr(open + 7));
  }
  return n;
}

namespace {

Json retort_response(const Response& r) {
  Json j = Json::object();
  j["ok"] = r.ok;
  j["cached"] = r.cached;
  j["latency_s"] = r.latency_s;
  if (r.ttft_s >= 0) j["ttft_s"] = r.ttft_s;
  j["prompt_tokens"] = r.prompt_tokens;
  j["completion_tokens"] = r.completion_tokens;
  j["retries"] = r.retries;
  if (!r.finish_reason.empty()) j["finish_reason"] = r.finish_reason;
  if (!r.reasoning.empty()) j["reasoning"] = r.reasoning;
  const int64_t rc = reasoning_chars(r);
  if (rc > 0) j["reasoning_chars"] = rc;
  // The server's count when it sent one; null for a reply that reasoned without one.
  if (r.reasoning_tokens >= 0)
    j["reasoning_tokens"] = r.reasoning_tokens;
  else if (rc > 0)
    j["reasoning_tokens"] = nullptr;
  if (!r.ok) {
    j["error"] = r.error;
    if (r.http_status) j["http_status"] = r.http_status;
  }
  return j;
}

// The "arguments" entry of one request: {"arg_0": ..., "arg_1": ...}. An array (lm-eval's
// args tuple) is renamed the way save_results_samples does it.
Json arguments_entry(const Json& args) {
  if (!args.is_array()) return args;
  Json out = Json::object();
  for (size_t j = 0; j < args.size(); ++j) out["arg_" + std::to_string(j)] = args[j];
  return out;
}

// requests[0].arguments[0]: the context string (a chat context may be logged as the
// one-element array of a JsonChatStr). A string is given where it is; anything else as its
// py_str, kept in scratch.
std::string_view first_argument(const Sample& s, std::string& scratch) {
  if (s.requests.empty()) return "";
  const Json& args = s.requests[0].arguments;
  const Json* first = nullptr;
  if (args.is_object()) {
    auto it = args.find("arg_0");
    if (it != args.end()) first = &*it;
  } else if (args.is_array() && !args.empty()) {
    first = &args[0];
  }
  if (!first) return "";
  if (first->is_array() && first->size() == 1 && (*first)[0].is_string()) first = &(*first)[0];
  if (first->is_string()) return first->get_ref<const std::string&>();
  scratch = py_str(*first);
  return scratch;
}

}  // namespace

std::string doc_hash(const Json& doc) {
  // Dumped into the thread's buffer: one per stored sample, so no fresh string each time.
  thread_local std::string text;
  text.clear();
  append_py_json_dumps(text, doc, 2, false);
  return sha256_hex(text);
}
std::string prompt_hash(const Sample& sample) {
  std::string scratch;
  return sha256_hex(first_argument(sample, scratch));
}
std::string target_hash(const Json& target) {
  return sha256_hex(py_str(target));
}

Json sample_record(const Sample& s, size_t filter_index) {
  Json rec = Json::object();
  rec["doc_id"] = s.doc_id;
  rec["doc"] = s.doc;
  rec["target"] = py_str(s.target);

  Json arguments = Json::object();
  Json resps = Json::array();
  for (size_t i = 0; i < s.requests.size(); ++i) {
    const auto& req = s.requests[i];
    arguments["gen_args_" + std::to_string(i)] = arguments_entry(req.logged_arguments());
    Json per_repeat = Json::array();
    for (const auto& r : req.responses) per_repeat.push_back(logged_response(req.kind, r));
    resps.push_back(per_repeat);
  }
  rec["arguments"] = arguments;
  rec["resps"] = resps;

  const FilteredSample* f = filter_index < s.filtered.size() ? &s.filtered[filter_index] : nullptr;
  rec["filtered_resps"] =
      f && !f->filtered_resps.is_null() ? sanitize_list(f->filtered_resps) : Json::array();
  rec["filter"] = f ? f->filter : std::string("none");
  Json metric_names = Json::array();
  if (f && f->metric_values.is_object()) {
    for (const auto& [name, value] : f->metric_values.items()) metric_names.push_back(name);
  }
  rec["metrics"] = metric_names;
  rec["doc_hash"] = s.doc_hash.empty() ? doc_hash(s.doc) : s.doc_hash;
  rec["prompt_hash"] = s.prompt_hash.empty() ? prompt_hash(s) : s.prompt_hash;
  rec["target_hash"] = s.target_hash.empty() ? target_hash(s.target) : s.target_hash;
  if (f && f->metric_values.is_object()) {
    for (const auto& [name, value] : f->metric_values.items()) rec[name] = value;
  }

  Json extra = Json::object();
  extra["failed"] = s.failed;
  Json responses = Json::array();
  for (const auto& req : s.requests) {
    Json per_repeat = Json::array();
    for (const auto& r : req.responses) per_repeat.push_back(retort_response(r));
    responses.push_back(per_repeat);
  }
  extra["responses"] = responses;
  // Per repeat, how this filter's answer was found and judged (math: rule, both normalised
  // forms, verdict, no_answer).
  if (f && !f->details.is_null()) extra["answers"] = f->details;
  rec["retort"] = extra;
  return rec;
}

namespace {

size_t filter_count(const TaskResult& task) {
  size_t n = 0;
  for (const auto& s : task.samples) n = std::max(n, s.filtered.size());
  return n;
}

template <typename Fn>
void for_each_logged(const TaskResult& task, Fn fn) {
  size_t filters = filter_count(task);
  for (size_t f = 0; f < filters; ++f) {
    for (const auto& s : task.samples) {
      if (f < s.filtered.size()) fn(s, f);
    }
  }
}

}  // namespace

std::vector<std::string> sample_lines(const TaskResult& task) {
  std::vector<std::string> lines;
  for_each_logged(task, [&](const Sample& s, size_t f) {
    lines.push_back(log::redact(py_json_dumps(sample_record(s, f), -1, false)));
  });
  return lines;
}

std::string task_hash(const TaskResult& task) {
  std::string all;
  for_each_logged(task, [&](const Sample& s, size_t) {
    all += s.doc_hash.empty() ? doc_hash(s.doc) : s.doc_hash;
    all += s.prompt_hash.empty() ? prompt_hash(s) : s.prompt_hash;
    all += s.target_hash.empty() ? target_hash(s.target) : s.target_hash;
  });
  return sha256_hex(all);
}

}  // namespace retort
