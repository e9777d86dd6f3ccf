// Partial scores never look complete: when requests fail for good, the score table, the
// results JSON (n-samples, retort.partial) and the HTML report say how many docs a score
// stands on; --require_complete withholds such scores; an interrupted run writes what it
// scored, marked interrupted.
#include <gtest/gtest.h>

#include <filesystem>
#include <regex>

#include "support/test_support.h"
#include "util/json.h"

namespace retort::testing {
namespace {

// n generate_until docs; the sim answers "42" and even docs expect it.
std::string write_task(const TempDir& dir, int n) {
  std::string data;
  for (int i = 0; i < n; ++i)
    data +=
        Json{{"q", "question " + std::to_string(i)}, {"a", i % 2 == 0 ? "42" : "7"}}.dump() + "\n";
  write_text(dir.file("docs.jsonl"), data);
  write_text(dir.file("partial_task.yaml"),
             "task: partial_task\n"
             "dataset_path: json\n"
             "dataset_kwargs:\n  data_files:\n    test: docs.jsonl\n"
             "test_split: test\n"
             "output_type: generate_until\n"
             "doc_to_text: \"Q: {{q}}\\nA:\"\n"
             "doc_to_target: \"{{a}}\"\n"
             "generation_kwargs:\n  until: [\"\\n\"]\n  max_gen_toks: 8\n"
             "metric_list:\n  - metric: exact_match\n");
  return dir.file("partial_task.yaml");
}

std::string path_after(const std::string& out, const std::string& label) {
  std::smatch m;
  if (!std::regex_search(out, m, std::regex(label + ": (\\S+)"))) return "";
  return m[1].str();
}

struct Scored {
  int scored = 0;   // samples without a failed request
  int correct = 0;  // of those, exact matches
};

Scored count_samples(const std::string& samples_path) {
  Scored s;
  std::string text = read_text(samples_path);
  size_t pos = 0;
  while (pos < text.size()) {
    size_t nl = text.find('\n', pos);
    if (nl == std::string::npos) nl = text.size();
    if (nl > pos) {
      Json rec = Json::parse(text.substr(pos, nl - pos));
      if (rec.contains("exact_match")) {
        ++s.scored;
        if (rec["exact_match"].get<double>() == 1.0) ++s.correct;
      }
    }
    pos = nl + 1;
  }
  return s;
}

class RunPartial : public ::testing::Test {
 protected:
  RunPartial()
      : sim_({"--model", "m", "--mode", "fixed", "--reply", "42", "--fail-500", "0.3", "--seed",
              "7"}) {}
  CommandResult run(const std::string& task, const std::vector<std::string>& extra) {
    std::vector<std::string> args{"run",          "--model",       "hosted_vllm/m",
                                  "--base-url",   sim_.base_url(), "--tasks",
                                  task,           "--max_retries", "0",
                                  "--no-cache",   "--output_path", dir_.file("out"),
                                  "--log_samples"};
    args.insert(args.end(), extra.begin(), extra.end());
    return run_retort(args);
  }
  SimServer sim_;
  TempDir dir_;
};

TEST_F(RunPartial, TableJsonAndReportSayHowManyDocsTheScoreStandsOn) {
  const int n = 40;
  auto r = run(write_task(dir_, n), {});
  ASSERT_EQ(r.exit_code, 3) << r.out << r.err;
  std::string results_path = path_after(r.out, "results");
  std::string samples_path = path_after(r.out, "samples");
  ASSERT_FALSE(results_path.empty()) << r.out;
  Scored s = count_samples(samples_path);
  ASSERT_GT(s.scored, 0) << "no request succeeded";
  ASSERT_LT(s.scored, n) << "no request failed: the sim's --fail-500 did nothing";

  const std::string mark = "(" + std::to_string(s.scored) + "/" + std::to_string(n) + " scored)";
  EXPECT_NE(r.out.find("partial_task " + mark), std::string::npos) << r.out;

  Json res = Json::parse(read_text(results_path));
  EXPECT_EQ(res["n-samples"]["partial_task"]["effective"].get<int>(), s.scored);
  EXPECT_EQ(res["n-samples"]["partial_task"]["original"].get<int>(), n);
  const Json& p = res["retort"]["partial"]["partial_task"];
  EXPECT_EQ(p["scored"].get<int>(), s.scored);
  EXPECT_EQ(p["docs"].get<int>(), n);
  EXPECT_FALSE(p["withheld"].get<bool>());
  EXPECT_FALSE(res["retort"]["complete"].get<bool>());
  // The score is over the answered docs only.
  EXPECT_DOUBLE_EQ(res["results"]["partial_task"]["exact_match,none"].get<double>(),
                   static_cast<double>(s.correct) / s.scored);

  std::string html = read_text(path_after(r.out, "report"));
  EXPECT_NE(html.find(mark), std::string::npos);

  // `retort report` re-prints the same mark from the file alone.
  auto again = run_retort({"report", results_path});
  EXPECT_NE(again.out.find(mark), std::string::npos) << again.out << again.err;
}

TEST_F(RunPartial, RequireCompleteWithholdsTheScoreOfATaskWithFailedDocs) {
  auto r = run(write_task(dir_, 40), {"--require_complete"});
  ASSERT_EQ(r.exit_code, 3) << r.out << r.err;
  EXPECT_NE(r.out.find("no score (--require_complete)"), std::string::npos) << r.out;
  Json res = Json::parse(read_text(path_after(r.out, "results")));
  EXPECT_FALSE(res["results"]["partial_task"].contains("exact_match,none")) << res.dump(2);
  EXPECT_TRUE(res["retort"]["partial"]["partial_task"]["withheld"].get<bool>());
}

TEST_F(RunPartial, RequireCompleteKeepsACompleteScore) {
  SimServer healthy({"--model", "m", "--mode", "fixed", "--reply", "42"});
  TempDir dir;
  auto r = run_retort({"run", "--model", "hosted_vllm/m", "--base-url", healthy.base_url(),
                       "--tasks", write_task(dir, 10), "--no-cache", "--require_complete",
                       "--output_path", dir.file("out")});
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  Json res = Json::parse(read_text(path_after(r.out, "results")));
  EXPECT_DOUBLE_EQ(res["results"]["partial_task"]["exact_match,none"].get<double>(), 0.5);
  EXPECT_EQ(res["n-samples"]["partial_task"]["effective"].get<int>(), 10);
  EXPECT_TRUE(res["retort"]["partial"].empty());
  EXPECT_EQ(r.out.find("scored)"), std::string::npos) << r.out;
}

}  // namespace
}  // namespace retort::testing
