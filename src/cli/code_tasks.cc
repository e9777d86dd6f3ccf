#include "cli/code_tasks.h"

#include <mutex>

#include "cache/cache.h"
#include "util/error.h"
#include "util/json.h"
#include "util/log.h"

namespace retort::cli {

namespace {

class SqliteVerdicts : public VerdictCache {
 public:
  explicit SqliteVerdicts(const std::string& path) : cache_(path) {}
  bool get(const std::string& key, CodeVerdict& out) override {
    std::optional<std::string> text;
    {
      std::lock_guard<std::mutex> lock(mu_);
      text = cache_.get("exec:" + key);
    }
    if (!text) return false;
    Json j = Json::parse(*text, nullptr, false);
    if (!j.is_object() || !j.contains("verdict")) return false;
    const std::string v = j.value("verdict", "");
    if (v == "pass")
      out.verdict = Verdict::kPass;
    else if (v == "fail")
      out.verdict = Verdict::kFail;
    else if (v == "timeout")
      out.verdict = Verdict::kTimeout;
    else
      return false;
    out.reason = j.value("reason", "");
    out.tests_passed = j.value("tests_passed", int64_t{0});
    out.tests_total = j.value("tests_total", int64_t{0});
    return true;
  }
  void put(const std::string& key, const CodeVerdict& v) override {
    Json j = {{"verdict", verdict_name(v.verdict)},
              {"reason", v.reason},
              {"tests_passed", v.tests_passed},
              {"tests_total", v.tests_total}};
    std::lock_guard<std::mutex> lock(mu_);
    try {
      cache_.put("exec:" + key, j.dump());
    } catch (const Error& e) {
      log::warn("could not store a code verdict in {}: {}", cache_.path(), e.what_failed());
    }
  }

 private:
  std::mutex mu_;
  ResponseCache cache_;
};

}  // namespace

void check_code_consent(const TaskSpec& task, bool confirmed) {
  if (!confirmed)
    throw Error("task '" + task.name +
                    "' scores by running the model's generated code, which needs your consent",
                "--confirm_run_unsafe_code",
                "add --confirm_run_unsafe_code (as in lm-eval); each program then runs in a "
                "bubblewrap sandbox with no network, no home directory, an empty environment "
                "and CPU/memory/time limits");
  const std::string& why = sandbox_unavailable_reason();
  if (!why.empty()) throw Error(why, "task '" + task.name + "'");
  // The language its programs are in must be runnable here (a JDK for Java, g++ for C++),
  // else every program would fail for a reason that is not the model's.
  if (!task.metric_list.is_array()) return;
  for (const auto& m : task.metric_list) {
    if (!m.is_object() || !m.contains("metric") || !m["metric"].is_string() ||
        !is_code_metric(m["metric"].get<std::string>()) || !m.contains("language") ||
        !m["language"].is_string())
      continue;
    const std::string language = m["language"].get<std::string>();
    const std::string missing = code_language_unavailable(language);
    if (!missing.empty())
      throw Error("task '" + task.name + "' runs " + language +
                      " programs, and this machine cannot: " + missing,
                  task.where("metric_list"), "install it, or choose another task");
  }
}

std::unique_ptr<VerdictCache> open_verdict_cache(const std::string& path) {
  const std::string p = path.empty() ? ResponseCache::default_path() : path;
  try {
    return std::make_unique<SqliteVerdicts>(p);
  } catch (const Error& e) {
    log::warn("code verdicts will not be cached: {}", e.what_failed());
    return nullptr;
  }
}

}  // namespace retort::cli
