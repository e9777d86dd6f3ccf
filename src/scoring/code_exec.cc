#include "scoring/code_exec.h"

#include <unistd.h>

#include <algorithm>
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

// A compiler's failure as a verdict: the model's program failed (not the sandbox), and the
// reason names the first "error:" line when the compiler wrote one (javac ends with "1
// error", which says nothing).
CodeVerdict compile_failure(const SandboxResult& c) {
  CodeVerdict cv = from_run(c, "compile");
  if (cv.verdict == Verdict::kError && c.reason.rfind("sandbox setup", 0) != 0)
    cv.verdict = Verdict::kFail;
  if (cv.verdict == Verdict::kFail && !c.signal) {
    size_t at = c.err.find("error:");
    if (at != std::string::npos) {
      size_t start = c.err.rfind('\n', at);
      start = start == std::string::npos ? 0 : start + 1;
      std::string line = c.err.substr(start, c.err.find('\n', at) - start);
      if (line.size() > 200) line = line.substr(0, 200) + "...";
      cv.reason = "compile: exit status " + std::to_string(c.exit_code) + ": " + line;
    }
  }
  return cv;
}

// Shell words are quoted whole (Java names may hold '$').
std::string shell_quote(const std::string& s) {
  std::string out = "'";
  for (char c : s) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

// A JVM that dies of an uncaught exception ends its stderr with the stack trace; the
// exception's own line says what happened ("Exception in thread "main"
// java.lang.OutOfMemoryError: Java heap space").
void name_java_exception(SandboxResult& r) {
  if (r.verdict != Verdict::kFail || r.signal) return;
  size_t at = r.err.rfind("Exception in thread ");
  if (at == std::string::npos) return;
  std::string line = r.err.substr(at, r.err.find('\n', at) - at);
  if (line.size() > 200) line = line.substr(0, 200) + "...";
  r.reason = "exit status " + std::to_string(r.exit_code) + ": " + line;
}

bool installed(const char* name) {
  // What the sandbox sees of the host: /usr (PATH /usr/local/bin:/usr/bin:/bin).
  for (const char* dir : {"/usr/local/bin/", "/usr/bin/"})
    if (::access((std::string(dir) + name).c_str(), X_OK) == 0) return true;
  return false;
}

// The source with comments, string and character literals (and text blocks) blanked out,
// lines kept, so that what is left is declarations and code.
std::string java_code_only(const std::string& s) {
  std::string out = s;
  const size_t n = s.size();
  auto blank = [&](size_t from, size_t to) {
    for (size_t k = from; k < to && k < n; ++k)
      if (out[k] != '\n') out[k] = ' ';
  };
  size_t i = 0;
  while (i < n) {
    if (s.compare(i, 2, "//") == 0) {
      size_t e = s.find('\n', i);
      e = e == std::string::npos ? n : e;
      blank(i, e);
      i = e;
    } else if (s.compare(i, 2, "/*") == 0) {
      size_t e = s.find("*/", i + 2);
      e = e == std::string::npos ? n : e + 2;
      blank(i, e);
      i = e;
    } else if (s.compare(i, 3, "\"\"\"") == 0) {
      size_t e = s.find("\"\"\"", i + 3);
      e = e == std::string::npos ? n : e + 3;
      blank(i, e);
      i = e;
    } else if (s[i] == '"' || s[i] == '\'') {
      const char q = s[i];
      size_t j = i + 1;
      while (j < n && s[j] != q && s[j] != '\n') j += s[j] == '\\' ? 2 : 1;
      j = std::min(n, j + 1);
      blank(i, j);
      i = j;
    } else {
      ++i;
    }
  }
  return out;
}

bool java_ident_char(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '$';
}

}  // namespace

const std::vector<std::string>& code_languages() {
  static const std::vector<std::string> l = {"python", "cpp", "java"};
  return l;
}

std::string code_language_unavailable(const std::string& language) {
  if (language == "python")
    return installed("python3") ? "" : "python3 is not installed (apt-get install python3)";
  if (language == "cpp")
    return installed("g++") ? "" : "C++ needs g++, which is not installed (apt-get install g++)";
  if (language == "java")
    return installed("javac") && installed("java")
               ? ""
               : "Java needs a JDK (javac and java under /usr/bin), which is not installed "
                 "(apt-get install openjdk-17-jdk-headless)";
  return "language '" + language + "' is not supported (python, cpp, java)";
}

JavaEntry java_entry(const std::string& source) {
  const std::string code = java_code_only(source);
  struct Type {
    std::string name;
    bool is_public = false;
    size_t open = std::string::npos, close = std::string::npos;
  };
  std::vector<Type> types;
  std::string package;
  std::vector<size_t> mains;       // where "void main (" appears
  std::vector<std::string> words;  // at depth 0 since the last ';' or '}'
  bool pending = false;            // a top-level type was declared, its body not yet open
  int depth = 0;
  std::string prev;
  const size_t n = code.size();
  for (size_t i = 0; i < n;) {
    const char c = code[i];
    if (java_ident_char(c) && !std::isdigit(static_cast<unsigned char>(c))) {
      size_t j = i;
      while (j < n && (java_ident_char(code[j]) ||
                       (code[j] == '.' && !words.empty() && words.back() == "package")))
        ++j;
      std::string w = code.substr(i, j - i);
      if (depth == 0) {
        if (!words.empty() && words.back() == "package" && package.empty()) package = w;
        if (!pending && !words.empty() &&
            (words.back() == "class" || words.back() == "interface" || words.back() == "enum" ||
             words.back() == "record")) {
          Type t;
          t.name = w;
          t.is_public = std::find(words.begin(), words.end(), "public") != words.end();
          types.push_back(t);
          pending = true;
        }
        words.push_back(w);
      }
      if (w == "main" && prev == "void") {
        size_t k = j;
        while (k < n && std::isspace(static_cast<unsigned char>(code[k]))) ++k;
        if (k < n && code[k] == '(') mains.push_back(i);
      }
      prev = w;
      i = j;
      continue;
    }
    if (!std::isspace(static_cast<unsigned char>(c))) prev.clear();
    if (c == '{') {
      if (depth == 0 && pending) {
        types.back().open = i;
        pending = false;
      }
      ++depth;
    } else if (c == '}') {
      if (depth > 0) --depth;
      if (depth == 0) {
        if (!types.empty() && types.back().close == std::string::npos &&
            types.back().open != std::string::npos)
          types.back().close = i;
        words.clear();
      }
    } else if (c == ';' && depth == 0) {
      words.clear();
    }
    ++i;
  }
  JavaEntry e;
  const Type* pub = nullptr;
  for (const auto& t : types)
    if (t.is_public) {
      pub = &t;
      break;
    }
  if (pub) e.file = pub->name + ".java";
  const Type* main_type = nullptr;
  for (size_t at : mains) {
    for (const auto& t : types)
      if (t.open != std::string::npos && at > t.open && at < t.close) {
        main_type = &t;
        break;
      }
    if (main_type) break;
  }
  if (!main_type) main_type = pub ? pub : (types.empty() ? nullptr : &types.front());
  e.main_class = main_type ? main_type->name : "Main";
  if (!package.empty()) e.main_class = package + "." + e.main_class;
  return e;
}

std::vector<std::string> java_flags(const SandboxLimits& limits) {
  const int64_t mib = int64_t{1} << 20;
  const int64_t heap = std::max<int64_t>(limits.memory_bytes / 2 / mib, 16);
  const int64_t stack = std::clamp<int64_t>(limits.memory_bytes / 128 / mib, 1, 64);
  return {"-XX:+UseSerialGC", "-XX:ActiveProcessorCount=1", "-Xmx" + std::to_string(heap) + "m",
          "-Xss" + std::to_string(stack) + "m", "-XX:CompressedClassSpaceSize=64m",
          "-XX:ReservedCodeCacheSize=64m", "-Xshare:auto", "-XX:-UsePerfData",
          // The JVM's own warnings go to stdout by default, into the program's answer.
          "-Xlog:disable", "-Xlog:all=warning:stderr"};
}

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
      // A program that does not compile is the model's failure, not the sandbox's.
      CodeVerdict cv = compile_failure(c);
      cv.tests_total = v.tests_total;
      return cv;
    }
    run.files = {{"main", std::move(c.out), true}};
    run.argv = {"/sandbox/main"};
  } else if (job.language == "java") {
    if (std::string why = code_language_unavailable("java"); !why.empty()) {
      v.reason = why;
      return v;
    }
    // javac in one sandboxed run that writes the classes to stdout as a tar archive (a
    // program may be several classes, in a package's folders); each test then unpacks them
    // in a fresh sandbox and runs the JVM. Both JVMs get flags that fit the limits.
    const JavaEntry entry = java_entry(job.source);
    SandboxRun compile;
    compile.limits = job.compile_limits;
    compile.limits.output_bytes = std::max<int64_t>(compile.limits.output_bytes, 64 << 20);
    compile.files = {{entry.file, job.source, false}};
    // javac is itself a Java program: C1 only (it runs briefly; C2 would cost CPU).
    std::string javac = "MALLOC_ARENA_MAX=2 javac -J-XX:TieredStopAtLevel=1";
    for (const auto& f : java_flags(compile.limits)) javac += " -J" + f;
    compile.argv = {"/bin/sh", "-c",
                    javac + " -encoding UTF-8 -nowarn -d classes " + shell_quote(entry.file) +
                        " 1>&2 && tar -C classes -cf - ."};
    SandboxResult c = run_sandboxed(compile);
    if (c.verdict != Verdict::kPass) {
      CodeVerdict cv = compile_failure(c);
      cv.tests_total = v.tests_total;
      return cv;
    }
    std::string java = "tar -xf classes.tar && MALLOC_ARENA_MAX=2 exec java";
    for (const auto& f : java_flags(job.limits)) java += " " + f;
    run.files = {{"classes.tar", std::move(c.out), false}};
    // user.home comes from the password database, which the sandbox does not have.
    run.argv = {"/bin/sh", "-c",
                java + " -Duser.home=/sandbox -cp /sandbox " + shell_quote(entry.main_class)};
  } else {
    v.reason = code_language_unavailable(job.language);
    return v;
  }

  const bool java = job.language == "java";
  if (job.tests.empty()) {
    SandboxResult r = run_sandboxed(run);
    if (java) name_java_exception(r);
    return from_run(r, "run");
  }
  for (size_t i = 0; i < job.tests.size(); ++i) {
    run.stdin_data = job.tests[i].input;
    SandboxResult r = run_sandboxed(run);
    if (java) name_java_exception(r);
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

bool is_evalchemy_code_style(const std::string& style) {
  return style == "humaneval" || style == "mbpp" || style == "mbpp_plus";
}

Json evalchemy_code_results(const std::vector<std::pair<int64_t, int64_t>>& n_c,
                            const std::string& style, int64_t planned_docs) {
  if (!is_evalchemy_code_style(style))
    throw Error("metadata.evalchemy_results: unknown style '" + style + "'", "",
                "code styles: humaneval, mbpp, mbpp_plus");
  Json out = Json::object();
  if (n_c.empty()) return out;
  const std::string prefix = style == "humaneval" ? "python_" : "";
  for (int64_t k : {1, 10, 100}) {
    bool all = true;
    for (const auto& [n, c] : n_c) all = all && n >= k;
    if (!all) continue;
    out[prefix + "pass@" + std::to_string(k)] = *mean_pass_at_k(n_c, k);
  }
  if (style == "mbpp") {
    const auto scored = static_cast<int64_t>(n_c.size());
    out["num_examples"] = scored;
    out["completion_rate"] =
        planned_docs > 0 ? static_cast<double>(scored) / static_cast<double>(planned_docs) : 0.0;
  }
  return out;
}

}  // namespace retort
