#include "scoring/code_exec.h"

#include <cctype>
#include <mutex>
#include <optional>

#include "scoring/pass_at_k.h"
#include "util/error.h"
#include "util/hash.h"
#include "util/py_regex.h"
#include "util/pyvalue.h"
#include "util/strings.h"

namespace retort {

namespace {

std::vector<std::string_view> tokens(const std::string& s) {
  std::vector<std::string_view> out;
  size_t i = 0;
  while (i < s.size()) {
    while (i < s.size() && std::isspace(static_cast<unsigned char>(s[i]))) ++i;
    size_t start = i;
    while (i < s.size() && !std::isspace(static_cast<unsigned char>(s[i]))) ++i;
    if (i > start) out.emplace_back(s.data() + start, i - start);
  }
  return out;
}

CodeVerdict from_run(const SandboxResult& r, const std::string& what) {
  CodeVerdict v;
  v.verdict = r.verdict;
  if (r.verdict != Verdict::kPass) v.reason = what + ": " + r.reason;
  return v;
}

}  // namespace

SandboxLimits default_code_limits() {
  SandboxLimits l;
  l.cpu_seconds = 3.0;
  l.wall_seconds = 6.0;
  l.memory_bytes = int64_t{4} << 30;
  return l;
}

bool outputs_match(const std::string& got, const std::string& expected) {
  return tokens(got) == tokens(expected);
}

CodeVerdict check_program(const CodeJob& job) {
  CodeVerdict v;
  v.tests_total = static_cast<int64_t>(job.tests.size());
  SandboxRun run;
  run.limits = job.limits;
  if (job.language == "python") {
    run.files = {{"main.py", job.source, false}};
    run.argv = {"/usr/bin/python3", "main.py"};
  } else if (job.language == "cpp") {
    // Compile in one sandboxed run that writes the binary to stdout; then run the binary
    // in fresh sandboxes, one per test.
    SandboxRun compile;
    compile.limits = job.compile_limits;
    compile.limits.output_bytes = std::max<int64_t>(compile.limits.output_bytes, 64 << 20);
    compile.files = {{"main.cpp", job.source, false}};
    compile.argv = {"/bin/sh", "-c", "g++ -std=c++17 -O2 -pipe -o main main.cpp 1>&2 && cat main"};
    SandboxResult c = run_sandboxed(compile);
    if (c.verdict != Verdict::kPass) {
      CodeVerdict cv = from_run(c, "compile");
      // A program that does not compile is the model's failure, not the sandbox's.
      if (cv.verdict == Verdict::kError && c.reason.rfind("sandbox setup", 0) != 0)
        cv.verdict = Verdict::kFail;
      cv.tests_total = v.tests_total;
      return cv;
    }
    run.files = {{"main", std::move(c.out), true}};
    run.argv = {"/sandbox/main"};
  } else {
    v.reason = "language '" + job.language + "' is not supported (python, cpp)";
    return v;
  }

  if (job.tests.empty()) {
    CodeVerdict r = from_run(run_sandboxed(run), "run");
    return r;
  }
  for (size_t i = 0; i < job.tests.size(); ++i) {
    run.stdin_data = job.tests[i].input;
    SandboxResult r = run_sandboxed(run);
    const std::string what =
        "test " + std::to_string(i + 1) + "/" + std::to_string(job.tests.size());
    if (r.verdict != Verdict::kPass) {
      CodeVerdict f = from_run(r, what);
      f.tests_passed = v.tests_passed;
      f.tests_total = v.tests_total;
      return f;
    }
    if (!outputs_match(r.out, job.tests[i].expected_output)) {
      v.verdict = Verdict::kFail;
      v.reason = what + ": wrong answer";
      return v;
    }
    ++v.tests_passed;
  }
  v.verdict = Verdict::kPass;
  return v;
}

std::string code_job_key(const CodeJob& job) {
  auto lim = [](const SandboxLimits& l) {
    return std::to_string(l.wall_seconds) + "," + std::to_string(l.cpu_seconds) + "," +
           std::to_string(l.memory_bytes) + "," + std::to_string(l.processes) + "," +
           std::to_string(l.file_bytes) + "," + std::to_string(l.tmpfs_bytes) + "," +
           std::to_string(l.output_bytes);
  };
  std::string k = std::string(kSandboxVersion) + "\n" + job.language + "\n" + lim(job.limits) +
                  "\n" + lim(job.compile_limits) + "\n" + std::to_string(job.source.size()) + "\n" +
                  job.source;
  for (const auto& t : job.tests)
    k += "\n" + std::to_string(t.input.size()) + ":" + t.input + "\n" +
         std::to_string(t.expected_output.size()) + ":" + t.expected_output;
  return sha256_hex(k);
}

namespace {

// lm-eval humaneval/utils.py clean_text: re.sub(r'\n(▁+)', lambda m: '\n' + ' ' * len(...)).
std::string clean_text(const std::string& t) {
  static const std::string kBar = "\xE2\x96\x81";  // U+2581
  std::string out;
  out.reserve(t.size());
  size_t i = 0;
  while (i < t.size()) {
    if (t[i] == '\n' && t.compare(i + 1, kBar.size(), kBar) == 0) {
      out += '\n';
      ++i;
      while (t.compare(i, kBar.size(), kBar) == 0) {
        out += ' ';
        i += kBar.size();
      }
      continue;
    }
    out += t[i++];
  }
  return out;
}

std::string replace_all(std::string s, const std::string& from, const std::string& to) {
  size_t p = 0;
  while ((p = s.find(from, p)) != std::string::npos) {
    s.replace(p, from.size(), to);
    p += to.size();
  }
  return s;
}

std::string doc_prompt(const Doc& doc) {
  if (doc.is_object() && doc.contains("prompt") && doc["prompt"].is_string())
    return doc["prompt"].get<std::string>();
  throw Error(
      "code_extract: the doc has no string 'prompt' column (needed by the humaneval styles)");
}

// lm-eval mbpp/utils.py extract_code_blocks: the first fenced block of "```" + text (the
// gen_prefix opened one), else of the text with "```python" made "```"; nullopt when none.
std::optional<std::string> fenced_block(const std::string& text) {
  static const char* kPattern = R"(```(?:\w+)?\n?(.*?)\n?```)";
  auto re = PyRegex::compile(kPattern, kPyReDotAll);
  auto m = re->search("```" + text);
  if (m) return m->group_or_empty(1);
  auto m2 = re->search(replace_all(text, "```python", "```"));
  if (m2) return m2->group_or_empty(1);
  return std::nullopt;
}

// The same, keeping the whole text when it has no block (without the __future__ line).
std::string first_block(const std::string& text) {
  return fenced_block(text).value_or(text);
}

bool parse_pass_k(const std::string& name, int64_t& k) {
  // lm-eval's mbpp/utils.py pass_at_1 reports code_eval's pass@1 under its own name.
  if (name == "pass_at_1") {
    k = 1;
    return true;
  }
  if (name.rfind("pass@", 0) != 0 || name.size() == 5 || name.size() > 12) return false;
  k = 0;
  for (size_t i = 5; i < name.size(); ++i) {
    if (!std::isdigit(static_cast<unsigned char>(name[i]))) return false;
    k = k * 10 + (name[i] - '0');
  }
  return k >= 1;
}

}  // namespace

const std::vector<std::string>& code_extract_styles() {
  static const std::vector<std::string> s = {"humaneval",
                                             "humaneval_instruct",
                                             "mbpp",
                                             "ds1000",
                                             "fenced",
                                             "humaneval_build_predictions",
                                             "humaneval_build_predictions_instruct",
                                             "mbpp_build_predictions"};
  return s;
}

std::string extract_code(const std::string& style, const std::string& r, const Doc& doc) {
  if (style == "humaneval") return doc_prompt(doc) + clean_text(replace_all(r, "```python\n", ""));
  if (style == "humaneval_instruct") {
    size_t fence = r.find("```");
    return doc_prompt(doc) + clean_text(fence == std::string::npos ? r : r.substr(0, fence));
  }
  if (style == "mbpp") return "from __future__ import annotations\n" + first_block(r);
  // lm-eval 4e7e0d4's custom filter functions, exactly (no text cleaning, nothing added):
  // humaneval/utils.py build_predictions and build_predictions_instruct, and mbpp/utils.py
  // build_predictions = extract_code_blocks, which gives "" when the reply has no block.
  if (style == "humaneval_build_predictions") return doc_prompt(doc) + r;
  if (style == "humaneval_build_predictions_instruct")
    return doc_prompt(doc) + r.substr(0, r.find("```"));
  if (style == "mbpp_build_predictions") return fenced_block(r).value_or("");
  if (style == "ds1000") {
    // DS-1000's postprocess (xlangai/DS-1000 test_ds1000.py): cut at </code>, drop
    // ```python, cut at ```, cut at "\nEND SOLUTION", drop <code>.
    std::string c = r.substr(0, r.find("</code>"));
    c = replace_all(c, "```python", "");
    c = c.substr(0, c.find("```"));
    c = c.substr(0, c.find("\nEND SOLUTION"));
    return replace_all(c, "<code>", "");
  }
  if (style == "fenced") {
    static const char* kPattern = R"(```[\w+#-]*[ \t]*\n(.*?)```)";
    auto m = PyRegex::compile(kPattern, kPyReDotAll)->search(r);
    return m ? m->group_or_empty(1) : r;
  }
  throw Error("code_extract: unknown style '" + style + "'", "",
              "styles: " + join(code_extract_styles(), ", "));
}

bool is_code_metric(const std::string& name) {
  int64_t k = 0;
  return parse_pass_k(name, k);
}

bool is_code_metric(const MetricSpec& spec) {
  return is_code_metric(spec.name) && spec.kwargs.is_object() && spec.kwargs.contains("language");
}

Json score_code(const std::vector<MetricSpec>& specs, const Json& programs, const Json& gold,
                const CodeScoringOptions& options, Json* details) {
  std::vector<std::pair<const MetricSpec*, int64_t>> wanted;
  for (const auto& s : specs) {
    int64_t k = 0;
    if (is_code_metric(s) && parse_pass_k(s.name, k)) wanted.emplace_back(&s, k);
  }
  Json out = Json::object();
  if (wanted.empty()) return out;
  const Json& kw = wanted[0].first->kwargs;
  CodeJob base;
  base.limits = default_code_limits();
  if (kw.contains("language") && kw["language"].is_string())
    base.language = kw["language"].get<std::string>();
  if (kw.contains("timeout") && kw["timeout"].is_number()) {
    double t = kw["timeout"].get<double>();
    base.limits.cpu_seconds = t;
    base.limits.wall_seconds = t * 2 + 1;
  }
  if (kw.contains("memory_mb") && kw["memory_mb"].is_number_integer())
    base.limits.memory_bytes = kw["memory_mb"].get<int64_t>() << 20;
  base.compile_limits = base.limits;
  base.compile_limits.cpu_seconds = 30;
  base.compile_limits.wall_seconds = 60;
  const bool ds1000 = kw.contains("program") && kw["program"] == "ds1000";
  std::string appended;
  if (gold.is_string()) {
    appended = gold.get<std::string>();
  } else if (gold.is_object() && gold.contains("input") && gold.contains("output") &&
             gold["input"].is_array() && gold["output"].is_array()) {
    for (size_t i = 0; i < gold["input"].size() && i < gold["output"].size(); ++i)
      base.tests.push_back(
          {gold["input"][i].is_string() ? gold["input"][i].get<std::string>() : "",
           gold["output"][i].is_string() ? gold["output"][i].get<std::string>() : ""});
  } else {
    throw Error(
        "a pass@k metric needs the target to be test code (a string) or "
        "{input: [...], output: [...]}; got " +
        gold.dump().substr(0, 80));
  }
  std::vector<std::string> progs;
  if (programs.is_array()) {
    for (const auto& p : programs) progs.push_back(p.is_string() ? p.get<std::string>() : "");
  } else {
    progs.push_back(programs.is_string() ? programs.get<std::string>() : "");
  }
  std::vector<CodeVerdict> verdicts(progs.size());
  run_parallel(progs.size(), options.workers, [&](size_t i) {
    CodeJob job = base;
    // lm-eval code_eval: test_program = candidate + "\n" + test_case.
    if (ds1000) {
      // DS-1000's test program: the problem's code_context, then the solution as a string
      // handed to its test_execution (and test_string when the context defines it).
      job.source =
          appended + "\ncode = " + py_repr(Json(progs[i])) + "\ntest_execution(code)\n" +
          (appended.find("test_string(") != std::string::npos ? "test_string(code)\n" : "\n");
    } else {
      job.source = gold.is_object() ? progs[i] : progs[i] + "\n" + appended;
    }
    const std::string key = options.cache ? code_job_key(job) : "";
    if (options.cache && options.cache->get(key, verdicts[i])) return;
    verdicts[i] = check_program(job);
    if (options.cache && verdicts[i].verdict != Verdict::kError)
      options.cache->put(key, verdicts[i]);
  });
  int64_t n = static_cast<int64_t>(progs.size()), c = 0;
  for (const auto& v : verdicts) c += v.verdict == Verdict::kPass;
  for (const auto& [spec, k] : wanted)
    if (n >= k) out[spec->name] = pass_at_k(n, c, k);
  if (details) {
    *details = Json::array();
    for (const auto& v : verdicts)
      details->push_back(Json{{"verdict", verdict_name(v.verdict)}, {"reason", v.reason}});
  }
  return out;
}

}  // namespace retort
