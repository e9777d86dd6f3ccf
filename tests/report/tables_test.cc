// Terminal tables: lm-eval's score table layout and the final statistics table.
#include <gtest/gtest.h>

#include "report/report.h"
#include "report/report_fixture.h"

namespace retort {
namespace {

TEST(ScoreTable, TasksTableMatchesLmEvalLayout) {
  std::string expected =
      "|   Tasks    |Version|     Filter     |n-shot|  Metric   |   |Value |   |Stderr|\n"
      "|------------|-------|----------------|-----:|-----------|---|-----:|---|-----:|\n"
      "|Arithmetic  |N/A    |none            |      |acc        |↑  |0.5000|±  |0.5000|\n"
      "| - arith_gen|Yaml   |flexible-extract|     5|exact_match|↑  |1.0000|±  |0.0000|\n"
      "|            |       |strict-match    |     5|exact_match|↑  |0.5000|±  |0.5000|\n"
      "| - arith_mc |1      |none            |     0|acc        |↑  |0.5000|±  |0.5000|\n"
      "|            |       |none            |     0|acc_norm   |↑  |0.5000|±  |0.5000|\n";
  Json results = results_json(testing::make_run());
  EXPECT_EQ(format_score_table(results, "results"), expected);
}

TEST(ScoreTable, GroupsTable) {
  std::string expected =
      "|  Groups  |Version|Filter|n-shot|Metric|   |Value |   |Stderr|\n"
      "|----------|-------|------|------|------|---|-----:|---|-----:|\n"
      "|Arithmetic|N/A    |none  |      |acc   |↑  |0.5000|±  |0.5000|\n";
  Json results = results_json(testing::make_run());
  EXPECT_EQ(format_score_table(results, "groups"), expected);
}

TEST(ScoreTable, RunOverloadPrintsBothTables) {
  RunResult run = testing::make_run();
  Json results = results_json(run);
  EXPECT_EQ(format_score_table(run),
            format_score_table(results, "results") + "\n" + format_score_table(results, "groups"));
  run.groups.clear();
  std::string only = format_score_table(run);
  EXPECT_EQ(only.find("Groups"), std::string::npos);
  // Without groups, tasks are sorted by name at depth 0.
  EXPECT_LT(only.find("|arith_gen"), only.find("|arith_mc"));
}

TEST(ScoreTable, NumericVersionsRightAlignAndNAStderrIsPadded) {
  RunResult run = testing::make_run();
  run.groups.clear();
  run.tasks.pop_back();  // only arith_mc, version 1.0
  run.tasks[0].metrics = {{"acc", "none", 0.25, std::nullopt, true},
                          {"perplexity", "none", 12.3456789, 0.5, false}};
  std::string expected =
      "| Tasks  |Version|Filter|n-shot|  Metric  |   | Value |   |Stderr|\n"
      "|--------|------:|------|-----:|----------|---|------:|---|------|\n"
      "|arith_mc|      1|none  |     0|acc       |↑  | 0.2500|±  |   N/A|\n"
      "|        |       |none  |     0|perplexity|↓  |12.3457|±  |0.5000|\n";
  EXPECT_EQ(format_score_table(run), expected);
}

TEST(ScoreTable, MissingColumnGivesEmptyText) {
  EXPECT_EQ(format_score_table(Json::object(), "groups"), "");
}

TEST(StatsTable, ShowsCountsTokensAndRates) {
  RunStats s;
  s.total = 1247;
  s.succeeded = 1200;
  s.failed = 7;
  s.cached = 40;
  s.prompt_tokens = 124000;
  s.completion_tokens = 62000;
  s.elapsed_s = 932.1;
  s.latency_p50_s = 0.5;
  s.latency_p90_s = 1.25;
  s.latency_p99_s = 2.0;
  std::string t = format_stats_table(s, "org/m-1");
  auto row = [](const std::string& k, const std::string& v) {
    return "│ " + k + std::string(24 - k.size(), ' ') + " │ " + v + " ";
  };
  for (const auto& [k, v] : std::vector<std::pair<std::string, std::string>>{
           {"Name", "org/m-1"},
           {"Total", "1,247"},
           {"Succeeded", "1,200"},
           {"Failed", "7"},
           {"Cached", "40"},
           {"Input Tokens", "124,000"},
           {"Output Tokens", "62,000"},
           {"Average Input Tokens", "100.0"},
           {"Average Output Tokens", "50.0"},
           {"Total Time", "932.10s"},
           {"Average Time per Request", "0.77s"},
           {"Requests per Minute", "77.7"},
           {"Tokens per Second", "199.5"},
           {"Latency p50 / p90 / p99", "0.50s / 1.25s / 2.00s"}}) {
    EXPECT_NE(t.find(row(k, v)), std::string::npos) << k << "\n" << t;
  }
  EXPECT_EQ(t.find("Time to First Token"), std::string::npos);
  EXPECT_NE(t.find("Run Statistics\n╭"), std::string::npos);
}

TEST(StatsTable, JsonRoundTrip) {
  RunResult run = testing::make_run();
  RunStats back = stats_from_json(stats_json(run.stats));
  EXPECT_EQ(back.total, 7);
  EXPECT_EQ(back.cached, 1);
  EXPECT_EQ(back.prompt_tokens, 53);
  EXPECT_DOUBLE_EQ(back.elapsed_s, 12.0);
  EXPECT_DOUBLE_EQ(back.latency_p90_s, 0.5);
}

TEST(RunLine, LikeLmEvalsHeaderLine) {
  Json results = results_json(testing::make_run());
  EXPECT_EQ(format_run_line(results),
            "local-completions (model=org/m-1,base_url=http://127.0.0.1:8000/v1,num_concurrent=8)"
            ", gen_kwargs: (None), limit: 2.0, num_fewshot: None, batch_size: 1");
  results["config"]["model_args"] = Json{{"model", "m"}, {"api_key", "sk-x-123456"}};
  results["config"]["batch_sizes"] = Json::array({4, 8});
  EXPECT_EQ(format_run_line(results),
            "local-completions ({'model': 'm'}), gen_kwargs: (None), limit: 2.0, num_fewshot: "
            "None, batch_size: 1 (4,8)");
}

TEST(Format, ThousandsAndHms) {
  EXPECT_EQ(group_thousands(0), "0");
  EXPECT_EQ(group_thousands(999), "999");
  EXPECT_EQ(group_thousands(1247), "1,247");
  EXPECT_EQ(group_thousands(1234567), "1,234,567");
  EXPECT_EQ(group_thousands(-1000), "-1,000");
  EXPECT_EQ(format_hms(0), "0:00:00");
  EXPECT_EQ(format_hms(192.9), "0:03:12");
  EXPECT_EQ(format_hms(36000 + 61), "10:01:01");
  EXPECT_EQ(format_hms(-5), "0:00:00");
}

}  // namespace
}  // namespace retort
