#include "sim/script.h"

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include "util/error.h"
#include "util/json.h"
#include "util/strings.h"

namespace retort::sim {

Regex::Regex(const std::string& pattern, const std::string& where) {
  int err = 0;
  PCRE2_SIZE offset = 0;
  pcre2_code* code =
      pcre2_compile(reinterpret_cast<PCRE2_SPTR>(pattern.data()), pattern.size(),
                    PCRE2_UTF | PCRE2_UCP | PCRE2_MATCH_INVALID_UTF, &err, &offset, nullptr);
  if (!code) {
    PCRE2_UCHAR buf[256];
    pcre2_get_error_message(err, buf, sizeof buf);
    throw Error("bad regex pattern '" + pattern + "': " + reinterpret_cast<char*>(buf) +
                    " at offset " + std::to_string(offset),
                where, "patterns use Python/PCRE syntax; escape literal characters like ( [ . *");
  }
  pcre2_jit_compile(code, PCRE2_JIT_COMPLETE);  // falls back to the interpreter on failure
  code_ = code;
}

Regex::~Regex() {
  pcre2_code_free(static_cast<pcre2_code*>(code_));
}

bool Regex::search(std::string_view subject) const {
  auto* code = static_cast<pcre2_code*>(code_);
  pcre2_match_data* md = pcre2_match_data_create_from_pattern(code, nullptr);
  int rc = pcre2_match(code, reinterpret_cast<PCRE2_SPTR>(subject.data()), subject.size(), 0, 0, md,
                       nullptr);
  pcre2_match_data_free(md);
  return rc >= 0;
}

Script Script::load(const std::string& path) {
  return parse(read_file(path), path);
}

Script Script::parse(std::string_view text, const std::string& path) {
  Script s;
  size_t line_no = 0;
  for (const auto& raw : split(text, '\n')) {
    ++line_no;
    std::string line = trim(raw);
    if (line.empty() || line[0] == '#') continue;
    std::string where = path + ":" + std::to_string(line_no);
    Json j;
    try {
      j = Json::parse(line);
    } catch (const std::exception& e) {
      throw Error(
          std::string("not a JSON object: ") + e.what(), where,
          R"(each line is {"pattern": "...", "reply": "..."} or {"pattern": "...", "prompt_logprob": -0.05})");
    }
    if (!j.is_object()) {
      throw Error("rule is not a JSON object", where,
                  R"(each line is {"pattern": "...", "reply": "..."})");
    }
    ScriptRule r;
    r.where = where;
    for (auto it = j.begin(); it != j.end(); ++it) {
      const std::string& k = it.key();
      if (k == "pattern") {
        if (!it->is_string()) throw Error("\"pattern\" must be a string", where);
        r.pattern = it->get<std::string>();
      } else if (k == "reply") {
        if (!it->is_string()) throw Error("\"reply\" must be a string", where);
        r.reply = it->get<std::string>();
      } else if (k == "prompt_logprob") {
        if (!it->is_number()) throw Error("\"prompt_logprob\" must be a number", where);
        double v = it->get<double>();
        if (v > 0) throw Error("\"prompt_logprob\" must be <= 0 (a log probability)", where);
        r.prompt_logprob = v;
      } else {
        throw Error("unknown key \"" + k + "\" in rule", where,
                    "allowed keys: pattern, reply, prompt_logprob");
      }
    }
    if (!j.contains("pattern")) throw Error("rule has no \"pattern\"", where);
    if (!r.reply && !r.prompt_logprob) {
      throw Error("rule has neither \"reply\" nor \"prompt_logprob\"", where,
                  "add one of them, or delete the line");
    }
    r.regex = std::make_shared<Regex>(r.pattern, where);
    s.rules_.push_back(std::move(r));
  }
  return s;
}

std::optional<std::string> Script::reply_for(std::string_view subject) const {
  for (const auto& r : rules_) {
    if (r.reply && r.regex->search(subject)) return r.reply;
  }
  return std::nullopt;
}

std::optional<double> Script::prompt_logprob_for(std::string_view subject) const {
  for (const auto& r : rules_) {
    if (r.prompt_logprob && r.regex->search(subject)) return r.prompt_logprob;
  }
  return std::nullopt;
}

}  // namespace retort::sim
