// `retort score math FILE.jsonl`: re-scores math answers from any harness. Each input line
// is a JSON object with "gold" and "pred" (pred may be a whole model reply, thinking
// included); each is written back to standard output, in order, with the verdict, the
// extracted answer, the rule that found it and both normalised forms added.
#include <cstdio>
#include <fstream>
#include <iostream>

#include "cli/commands.h"
#include "scoring/math_equiv.h"
#include "util/error.h"
#include "util/json.h"
#include "util/json_parse.h"

namespace retort::cli {

namespace {

constexpr const char* kUsage =
    "usage: retort score math FILE.jsonl   (FILE '-' reads standard input)\n"
    "\n"
    "Each line: {\"gold\": ..., \"pred\": ...}; pred may be a whole reply (with\n"
    "\"finish_reason\": \"length\" it was cut off: only an explicit answer counts). Each line is\n"
    "written back in order with \"equal\" (true, false, or null when the answer cannot be\n"
    "read), \"verdict\", \"extracted\", \"rule\", \"gold_normalized\", \"pred_normalized\"\n"
    "and \"equal_string_rule\" (lm-eval hendrycks_math / Evalchemy string comparison).\n";

std::string as_text(const Json& v, const std::string& where, const char* field) {
  if (v.is_string()) return v.get<std::string>();
  if (v.is_number()) return v.dump();
  throw Error(std::string("\"") + field + "\" must be a string or a number", where,
              "each line needs {\"gold\": ..., \"pred\": ...}");
}

Json score_line(const Json& row, const std::string& where) {
  if (!row.is_object()) throw Error("line is not a JSON object", where, kUsage);
  for (const char* f : {"gold", "pred"})
    if (!row.contains(f))
      throw Error(std::string("missing field \"") + f + "\"", where,
                  "each line needs {\"gold\": ..., \"pred\": ...}");
  std::string gold = as_text(row["gold"], where, "gold");
  std::string pred = as_text(row["pred"], where, "pred");
  // A reply that stopped at the token limit has only an explicit answer, or none.
  const bool cut_off = row.contains("finish_reason") && row["finish_reason"].is_string() &&
                       row["finish_reason"].get<std::string>() == "length";
  math::ScoredReply s = math::score_reply(gold, pred, cut_off);
  Json out = row;
  if (s.equiv.verdict == math::Verdict::kUnparseable)
    out["equal"] = nullptr;
  else
    out["equal"] = s.equiv.verdict == math::Verdict::kEqual;
  out["verdict"] = math::verdict_name(s.equiv.verdict);
  out["extracted"] = s.extracted.answer;
  out["rule"] = math::rule_name(s.extracted.rule);
  out["gold_normalized"] = s.equiv.gold_normalized;
  out["pred_normalized"] = s.equiv.pred_normalized;
  math::Extraction g = math::extract_gold(gold);
  std::string string_pred = math::hendrycks_last_boxed_answer(pred);
  out["equal_string_rule"] =
      !string_pred.empty() && math::hendrycks_is_equiv(g.answer, string_pred);
  return out;
}

int score_math(const std::string& path) {
  std::ifstream file;
  std::istream* in = &std::cin;
  if (path != "-") {
    file.open(path);
    if (!file) throw Error("cannot open file", path, "give a JSON Lines file, or - for stdin");
    in = &file;
  }
  std::string line;
  int64_t n = 0, equal = 0, scored = 0;
  FastJsonParser fast;
  while (std::getline(*in, line)) {
    ++n;
    if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
    std::string where = (path == "-" ? std::string("<stdin>") : path) + ":" + std::to_string(n);
    Json row;
    try {
      // What parse_json_fast declines, nlohmann reads (and words the error for) as before.
      if (!fast.parse(line, row)) row = Json::parse(line);
    } catch (const Json::parse_error& e) {
      throw Error(std::string("not valid JSON: ") + e.what(), where, kUsage);
    }
    Json out = score_line(row, where);
    ++scored;
    if (out["equal"] == true) ++equal;
    std::string text = out.dump(-1, ' ', false, Json::error_handler_t::replace);
    std::fwrite(text.data(), 1, text.size(), stdout);
    std::fputc('\n', stdout);
  }
  std::fflush(stdout);
  std::fprintf(stderr, "%lld of %lld equal\n", static_cast<long long>(equal),
               static_cast<long long>(scored));
  return 0;
}

}  // namespace

int cmd_score(const Args& args) {
  if (args.size() >= 2 && (args[1] == "--help" || args[1] == "-h")) {
    std::fputs(kUsage, stdout);
    return 0;
  }
  if (args.size() != 3 || args[1] != "math")
    throw Error("expected 'retort score math FILE.jsonl'", "retort score", kUsage);
  return score_math(args[2]);
}

}  // namespace retort::cli
