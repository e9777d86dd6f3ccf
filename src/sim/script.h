// Script mode: a JSONL file of rules, first match wins. Each rule has a PCRE2 "pattern"
// (searched, not anchored, like Python's re.search) and a "reply" (generation) and/or a
// "prompt_logprob" (the logprob of every prompt token echoed back for a matching prompt).
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace retort::sim {

class Regex;

struct ScriptRule {
  std::string where;  // file:line, for messages
  std::string pattern;
  std::shared_ptr<const Regex> regex;
  std::optional<std::string> reply;
  std::optional<double> prompt_logprob;
};

class Script {
 public:
  // Reads path; throws retort::Error naming file:line for a bad line or pattern.
  static Script load(const std::string& path);
  // Parses text as if read from path (for tests).
  static Script parse(std::string_view text, const std::string& path);

  // The reply of the first rule with a reply whose pattern matches subject.
  std::optional<std::string> reply_for(std::string_view subject) const;
  // The prompt logprob of the first rule with one whose pattern matches subject.
  std::optional<double> prompt_logprob_for(std::string_view subject) const;
  size_t size() const { return rules_.size(); }

 private:
  std::vector<ScriptRule> rules_;
};

// A compiled PCRE2 pattern (UTF, Unicode properties, JIT where available). Thread-safe.
class Regex {
 public:
  // Throws retort::Error(where) when pattern does not compile.
  Regex(const std::string& pattern, const std::string& where);
  ~Regex();
  Regex(const Regex&) = delete;
  Regex& operator=(const Regex&) = delete;
  bool search(std::string_view subject) const;

 private:
  void* code_ = nullptr;  // pcre2_code_8*
};

}  // namespace retort::sim
