// math_bench: answers scored per second on the equivalence corpus
// (tests/scoring/math_equiv_corpus.tsv): extraction + normalisation + parsing + comparison,
// and lm-eval's hendrycks string rule for scale. Not a test; see bench/README.md.
//
//   build/bench/math_bench [ROUNDS]     (run from the source tree)
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <string>
#include <vector>

#include "scoring/math_equiv.h"

using namespace retort::math;

namespace {

double now_s() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

struct Pair {
  std::string gold, pred;
  bool reply = false;
};

std::vector<Pair> load(const std::string& path) {
  std::ifstream in(path);
  std::vector<Pair> out;
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty() || line[0] == '#') continue;
    std::vector<std::string> f;
    size_t start = 0, pos;
    while ((pos = line.find(" @@ ", start)) != std::string::npos) {
      f.push_back(line.substr(start, pos - start));
      start = pos + 4;
    }
    f.push_back(line.substr(start));
    if (f.size() < 4) continue;
    Pair p{f[2], f[3], f[0] == "R"};
    // "<NL>" stands for a newline in the corpus file (built anew: GCC 12 -O2 warns about
    // string::replace in a loop here, -Werror=restrict, a known false positive).
    std::string pred;
    for (size_t i = 0; i < p.pred.size();) {
      if (p.pred.compare(i, 4, "<NL>") == 0) {
        pred += '\n';
        i += 4;
      } else {
        pred += p.pred[i++];
      }
    }
    p.pred = std::move(pred);
    out.push_back(p);
  }
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  int rounds = argc > 1 ? std::atoi(argv[1]) : 200;
  std::vector<Pair> pairs = load("tests/scoring/math_equiv_corpus.tsv");
  if (pairs.empty()) {
    std::fprintf(stderr, "run from the source tree (tests/scoring/math_equiv_corpus.tsv)\n");
    return 2;
  }
  std::vector<double> ours, strings;
  int64_t sink = 0;
  for (int rep = 0; rep < 5; ++rep) {
    double t0 = now_s();
    for (int r = 0; r < rounds; ++r)
      for (const auto& p : pairs)
        sink += p.reply ? static_cast<int>(score_reply(p.gold, p.pred).equiv.verdict)
                        : static_cast<int>(math_equiv(p.gold, p.pred).verdict);
    ours.push_back(static_cast<double>(rounds * pairs.size()) / (now_s() - t0));
    t0 = now_s();
    for (int r = 0; r < rounds; ++r)
      for (const auto& p : pairs)
        sink += hendrycks_is_equiv(p.gold, p.reply ? hendrycks_last_boxed_answer(p.pred) : p.pred);
    strings.push_back(static_cast<double>(rounds * pairs.size()) / (now_s() - t0));
  }
  std::sort(ours.begin(), ours.end());
  std::sort(strings.begin(), strings.end());
  std::printf("corpus pairs: %zu, rounds: %d, 5 runs (median)\n", pairs.size(), rounds);
  std::printf("math_equiv (extract + normalise + parse + compare): %.0f answers/s\n", ours[2]);
  std::printf("hendrycks string rule:                               %.0f answers/s\n", strings[2]);
  std::printf("(checksum %lld)\n", static_cast<long long>(sink));
  return 0;
}
