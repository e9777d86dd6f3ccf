// jsonl_bench: reading a dataset's JSON Lines (and the same rows as one JSON array) into
// Docs, with parse_json_fast (what parse_jsonl / parse_json use now) against nlohmann's
// Json::parse per row (what they used before), in the same run. Not a test; see
// bench/README.md.
//
//   build/bench/jsonl_bench [ROWS]
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "data/jsonl.h"
#include "util/json_parse.h"

using namespace retort;

namespace {

double now_s() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

// Median of 9 runs of f, in ms. reset() runs before each, untimed: it destroys what the last
// run built (freeing the rows costs the same whichever parser made them; in a run they live
// on).
template <typename R, typename F>
double timed(R reset, F f) {
  std::vector<double> t;
  for (int rep = 0; rep < 9; ++rep) {
    reset();
    double t0 = now_s();
    f();
    t.push_back(now_s() - t0);
  }
  reset();
  std::sort(t.begin(), t.end());
  return 1e3 * t[t.size() / 2];
}

// parse_jsonl as it was before parse_json_fast: Json::parse per line.
std::vector<Doc> parse_jsonl_nlohmann(std::string_view text) {
  std::vector<Doc> rows;
  size_t pos = 0;
  while (pos < text.size()) {
    size_t e = text.find('\n', pos);
    if (e == std::string_view::npos) e = text.size();
    std::string_view l = text.substr(pos, e - pos);
    pos = e + 1;
    if (l.empty()) continue;
    rows.push_back(Json::parse(l.begin(), l.end(), nullptr, false));
  }
  normalize_rows(rows, "bench", {});
  return rows;
}

// parse_json as it was, for an array of rows.
std::vector<Doc> parse_json_nlohmann(std::string_view text) {
  Json v = Json::parse(text.begin(), text.end(), nullptr, false);
  if (!v.is_array()) std::abort();
  std::vector<Doc> rows;
  rows.reserve(v.size());
  for (auto& r : v) rows.push_back(std::move(r));
  normalize_rows(rows, "bench", {});
  return rows;
}

void row(std::string& out, size_t i) {
  size_t a = 10 + i % 90;
  out += R"({"question": "What is )" + std::to_string(a) + " plus " + std::to_string(a) +
         R"(? Think step by step.", "answer": ")" + std::to_string(a) + " + " + std::to_string(a) +
         " = " + std::to_string(2 * a) + "\\n#### " + std::to_string(2 * a) +
         R"(", "difficulty": )" + std::to_string(0.125 * static_cast<double>(i % 8)) +
         R"(, "choices": [")" + std::to_string(2 * a) + R"(", ")" + std::to_string(2 * a + 1) +
         R"(", "caf\u00e9"]})";
}

}  // namespace

int main(int argc, char** argv) {
  size_t n = argc > 1 ? std::strtoul(argv[1], nullptr, 10) : 20000;
  std::string jsonl, array = "[";
  for (size_t i = 0; i < n; ++i) {
    row(jsonl, i);
    jsonl += '\n';
    if (i) array += ",\n";
    row(array, i);
  }
  array += "]";
  if (parse_jsonl(jsonl, "bench") != parse_jsonl_nlohmann(jsonl) ||
      parse_json(array, "bench") != parse_jsonl_nlohmann(jsonl)) {
    std::fprintf(stderr, "the two readers disagree\n");
    return 1;
  }
  std::vector<std::string_view> lines;
  for (size_t pos = 0; pos < jsonl.size();) {
    size_t e = jsonl.find('\n', pos);
    lines.push_back(std::string_view(jsonl).substr(pos, e - pos));
    pos = e + 1;
  }

  std::printf("%zu rows, %.1f MB of JSON Lines; median of 9 runs\n\n", n, jsonl.size() / 1e6);
  std::printf("| step | nlohmann ms | parse_json_fast ms | ratio |\n|---|---|---|---|\n");
  auto line = [](const char* name, double old_ms, double new_ms) {
    std::printf("| %s | %.2f | %.2f | %.2fx |\n", name, old_ms, new_ms, old_ms / new_ms);
  };
  std::vector<Json> kept;
  kept.reserve(n);
  std::vector<Doc> rows;
  auto reset = [&] {
    kept.clear();
    rows = {};
  };
  double old_ms = timed(reset, [&] {
    for (auto l : lines) {
      kept.push_back(Json::parse(l.begin(), l.end(), nullptr, false));
      if (kept.back().is_discarded()) std::abort();
    }
  });
  double new_ms = timed(reset, [&] {
    FastJsonParser parser;
    for (auto l : lines)
      if (!parser.parse(l, kept.emplace_back())) std::abort();
  });
  line("parse each row only", old_ms, new_ms);
  line("parse_jsonl (split, parse, normalize_rows)",
       timed(reset, [&] { rows = parse_jsonl_nlohmann(jsonl); }),
       timed(reset, [&] { rows = parse_jsonl(jsonl, "bench"); }));
  line("parse_json of the rows as one array",
       timed(reset, [&] { rows = parse_json_nlohmann(array); }),
       timed(reset, [&] { rows = parse_json(array, "bench"); }));
  return 0;
}
