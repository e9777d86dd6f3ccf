// Terminal tables: lm-eval's score table layout and the final statistics table.
#include <gtest/gtest.h>

#include "report/report.h"
#include "report/report_fixture.h"
#include "support/test_support.h"
#include "util/error.h"

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

namespace retort {
namespace {

std::string stats_row(const std::string& table, const std::string& key) {
  size_t at = table.find("│ " + key + " ");
  if (at == std::string::npos) return "";
  size_t start = table.find("│ ", at + 2) + std::string("│ ").size();
  size_t end = table.find(" │", start);
  std::string v = table.substr(start, end - start);
  while (!v.empty() && v.back() == ' ') v.pop_back();
  return v;
}

TEST(StatsTable, CuratorsRateLimitAndCostRows) {
  RunStats s;
  s.succeeded = 30;
  s.prompt_tokens = 1'000'000;
  s.completion_tokens = 500'000;
  s.elapsed_s = 60.0;
  s.rpm_limit = 600;
  s.tpm_limit = 2'000'000;
  s.price_model = "gpt-4o";
  s.price_input_per_mtok = 2.5;
  s.price_output_per_mtok = 10.0;
  std::string t = format_stats_table(s);
  EXPECT_EQ(stats_row(t, "Configured RPM / TPM"), "600 / 2,000,000") << t;
  EXPECT_EQ(stats_row(t, "Observed RPM / TPM"), "30.0 / 1,500,000") << t;
  EXPECT_EQ(stats_row(t, "Price per 1M Tokens"), "$2.50 in / $10.00 out (gpt-4o)") << t;
  EXPECT_EQ(stats_row(t, "Total Cost"), "$7.5000") << t;  // 1M x 2.5 + 0.5M x 10, per 1M
  EXPECT_EQ(stats_row(t, "TPOT p50 / p90 / p99"), "");    // nothing streamed

  RunStats local;
  local.local_server = true;
  local.tpot_p50_s = 0.012;
  local.tpot_p90_s = 0.02;
  local.tpot_p99_s = 0.0305;
  std::string l = format_stats_table(local);
  EXPECT_EQ(stats_row(l, "Configured RPM / TPM"), "none / none") << l;
  EXPECT_EQ(stats_row(l, "Price per 1M Tokens"), "local server") << l;
  EXPECT_EQ(stats_row(l, "Total Cost"), "$0.00 (local)") << l;
  EXPECT_EQ(stats_row(l, "TPOT p50 / p90 / p99"), "12.0ms / 20.0ms / 30.5ms") << l;

  RunStats hosted;  // no price, not local
  EXPECT_EQ(stats_row(format_stats_table(hosted), "Total Cost"),
            "N/A (no price; --price_table FILE)");

  // All of it survives the results file.
  RunStats back = stats_from_json(stats_json(s));
  EXPECT_DOUBLE_EQ(back.cost_usd(), 7.5);
  EXPECT_DOUBLE_EQ(back.rpm_limit, 600);
  EXPECT_EQ(back.price_model, "gpt-4o");
  Json j = stats_json(local);
  EXPECT_EQ(j["cost_usd"], 0.0);
  EXPECT_EQ(j["local_server"], true);
  EXPECT_TRUE(j["rpm_limit"].is_null());
  EXPECT_DOUBLE_EQ(j["tpot_p99_s"].get<double>(), 0.0305);
  EXPECT_TRUE(stats_json(hosted)["cost_usd"].is_null());
}

TEST(Prices, LongestPrefixWinsAndAFileGoesFirst) {
  const auto& table = builtin_prices();
  ASSERT_NE(find_price(table, "gpt-4o-mini-2024-07-18"), nullptr);
  EXPECT_EQ(find_price(table, "gpt-4o-mini-2024-07-18")->prefix, "gpt-4o-mini");
  EXPECT_EQ(find_price(table, "gpt-4o-2024-08-06")->prefix, "gpt-4o");
  EXPECT_EQ(find_price(table, "openai/GPT-4o")->prefix, "gpt-4o");  // after the last '/'
  EXPECT_EQ(find_price(table, "Qwen/Qwen3-8B"), nullptr);
  EXPECT_EQ(find_price(table, "my-gpt-4o"), nullptr);
  // A family's newer model is not priced as an older one that its name starts with.
  EXPECT_EQ(find_price(table, "o1-mini-2024-09-12")->prefix, "o1-mini");
  EXPECT_EQ(find_price(table, "claude-opus-4-20250514")->prefix, "claude-opus-4-2025");
  EXPECT_EQ(find_price(table, "claude-opus-4-1-20250805")->prefix, "claude-opus-4-1");
  EXPECT_EQ(find_price(table, "claude-opus-4-5-20251101"), nullptr);

  testing::TempDir dir;
  testing::write_text(
      dir.file("p.json"),
      R"({"gpt-4o": {"input": 1, "output": 2}, "qwen": {"input": 0.1, "output": 0.2}})");
  auto mine = load_price_table(dir.file("p.json"));
  EXPECT_DOUBLE_EQ(find_price(mine, "gpt-4o")->input_per_mtok, 1.0);  // the file's entry
  // A file's entry wins over a longer built-in prefix: the user said what gpt-4o* costs.
  EXPECT_DOUBLE_EQ(find_price(mine, "gpt-4o-mini")->input_per_mtok, 1.0);
  EXPECT_DOUBLE_EQ(find_price(mine, "gpt-4.1")->input_per_mtok, 2.0);  // built-in
  EXPECT_DOUBLE_EQ(find_price(mine, "Qwen/Qwen3-8B")->output_per_mtok, 0.2);

  testing::write_text(dir.file("bad.json"), R"({"gpt-4o": {"input": "cheap"}})");
  try {
    load_price_table(dir.file("bad.json"));
    ADD_FAILURE() << "a bad price was accepted";
  } catch (const Error& e) {
    EXPECT_NE(e.message().find("bad.json"), std::string::npos) << e.message();
    EXPECT_NE(e.message().find("entry 'gpt-4o' needs a number \"input\""), std::string::npos)
        << e.message();
  }
  EXPECT_THROW(load_price_table(dir.file("missing.json")), Error);
}

TEST(Prices, LocalServers) {
  for (const char* u : {"http://127.0.0.1:8000/v1", "http://localhost:1234/v1", "http://[::1]:80",
                        "http://10.1.2.3/v1", "http://192.168.0.5:8000", "http://172.20.0.2/v1",
                        "http://gpu-box.local:8000/v1", "http://user:pw@127.0.0.1/v1"})
    EXPECT_TRUE(is_local_url(u)) << u;
  for (const char* u : {"https://api.openai.com/v1", "https://api.anthropic.com",
                        "http://172.32.0.1/v1", "http://8.8.8.8", "http://127.0.0.1.evil.com/v1"})
    EXPECT_FALSE(is_local_url(u)) << u;
}

}  // namespace
}  // namespace retort

namespace retort {
namespace {

RunStats at(double t, int64_t done, int64_t in_flight, int64_t out_tokens) {
  RunStats s;
  s.elapsed_s = t;
  s.succeeded = done;
  s.in_flight = in_flight;
  s.completion_tokens = out_tokens;
  return s;
}

TEST(Series, SampledEvenlyKeptSmallAndRoundTripped) {
  SeriesRecorder rec(1.0, 8);
  for (int i = 1; i <= 400; ++i) rec.add(at(i * 0.1, i, 4, 10 * i));  // 40 s, 100 tok/s
  auto pts = rec.finish(at(40.05, 400, 0, 4000));
  ASSERT_GE(pts.size(), 4u);
  EXPECT_LE(pts.size(), 9u);
  EXPECT_EQ(pts.front().t_s, 0.0);
  EXPECT_EQ(pts.front().done, 0);
  EXPECT_DOUBLE_EQ(pts.back().t_s, 40.05);
  EXPECT_EQ(pts.back().in_flight, 0);
  for (size_t i = 1; i < pts.size(); ++i) EXPECT_GT(pts[i].t_s, pts[i - 1].t_s);
  EXPECT_NEAR(pts[pts.size() / 2].tokens_per_s, 100.0, 1e-6);  // tokens between points / dt
  EXPECT_EQ(pts[pts.size() / 2].in_flight, 4);

  RunStats s;
  s.series = pts;
  RunStats back = stats_from_json(stats_json(s));
  ASSERT_EQ(back.series.size(), pts.size());
  EXPECT_EQ(back.series[2].done, pts[2].done);
  EXPECT_NEAR(back.series[2].t_s, pts[2].t_s, 1e-3);
  EXPECT_EQ(back.series[2].ttft_p50_s, -1.0);

  std::string svg = series_chart_svg({{"run a", pts}});
  EXPECT_EQ(std::count(svg.begin(), svg.end(), '\n'), 0);
  EXPECT_NE(svg.find("<title>output tokens/s</title>"), std::string::npos) << svg;
  EXPECT_NE(svg.find("<polyline"), std::string::npos) << svg;
  EXPECT_NE(svg.find("40.0 s"), std::string::npos) << svg;     // the time axis
  EXPECT_EQ(svg.find("://"), std::string::npos);               // nothing to fetch
  EXPECT_EQ(series_chart_svg({{"one point", {pts[0]}}}), "");  // nothing to draw
  EXPECT_NE(series_chart_svg({{"<b>x</b>", pts}}).find("&lt;b&gt;x"), std::string::npos);
}

}  // namespace
}  // namespace retort
