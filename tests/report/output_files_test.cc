// File naming (lm-eval's date_id and model-name rules), atomic writing, reading back.
#include <gtest/gtest.h>

#include <cstdlib>
#include <ctime>
#include <filesystem>

#include "report/report.h"
#include "report/report_fixture.h"
#include "support/test_support.h"
#include "util/error.h"

namespace retort {
namespace {

using std::chrono::microseconds;
using std::chrono::seconds;
using std::chrono::system_clock;

class UtcTimeZone : public ::testing::Test {
 protected:
  void SetUp() override {
    const char* tz = std::getenv("TZ");
    had_tz_ = tz != nullptr;
    if (had_tz_) old_tz_ = tz;
    setenv("TZ", "UTC", 1);
    tzset();
  }
  void TearDown() override {
    if (had_tz_) {
      setenv("TZ", old_tz_.c_str(), 1);
    } else {
      unsetenv("TZ");
    }
    tzset();
  }
  bool had_tz_ = false;
  std::string old_tz_;
};

// 2024-05-01T12:03:04 UTC
const system_clock::time_point kT{seconds(1714564984)};

using DateId = UtcTimeZone;

TEST_F(DateId, OmitsMicrosecondsWhenZero) {
  EXPECT_EQ(date_id(kT), "2024-05-01T12-03-04");
}

TEST_F(DateId, SixDigitMicroseconds) {
  EXPECT_EQ(date_id(kT + microseconds(5)), "2024-05-01T12-03-04.000005");
  EXPECT_EQ(date_id(kT + microseconds(123456)), "2024-05-01T12-03-04.123456");
}

TEST_F(DateId, UsesLocalTime) {
  setenv("TZ", "Asia/Seoul", 1);
  tzset();
  EXPECT_EQ(date_id(kT), "2024-05-01T21-03-04");
}

TEST(ModelName, SanitizedLikeLmEval) {
  EXPECT_EQ(sanitize_model_name("org/m-1"), "org__m-1");
  EXPECT_EQ(sanitize_model_name("hosted_vllm/Qwen/Qwen3-8B"), "hosted_vllm__Qwen__Qwen3-8B");
  EXPECT_EQ(sanitize_model_name("a:/|b"), "a__b");  // a run becomes one "__"
  EXPECT_EQ(sanitize_model_name("x[1]*?\"<>\\y"), "x__1__y");
  EXPECT_EQ(sanitize_model_name("plain.name"), "plain.name");
}

TEST(OutputPathsPlan, DirectoryOutput) {
  auto p = plan_output_paths("out", "org__m", "2024-05-01T12-03-04", {"gsm8k", "mmlu"}, true);
  EXPECT_EQ(p.results_json, "out/org__m/results_2024-05-01T12-03-04.json");
  EXPECT_EQ(p.samples_jsonl,
            (std::vector<std::string>{"out/org__m/samples_gsm8k_2024-05-01T12-03-04.jsonl",
                                      "out/org__m/samples_mmlu_2024-05-01T12-03-04.jsonl"}));
  EXPECT_EQ(p.html, "out/org__m/report_2024-05-01T12-03-04.html");
}

TEST(OutputPathsPlan, JsonFileOutput) {
  auto p = plan_output_paths("logs/quickcheck.json", "org__m", "D", {"aime24"}, true);
  EXPECT_EQ(p.results_json, "logs/quickcheck_D.json");
  EXPECT_EQ(p.samples_jsonl, (std::vector<std::string>{"logs/samples_aime24_D.jsonl"}));
  EXPECT_EQ(p.html, "logs/quickcheck_D.html");
  auto bare = plan_output_paths("r.json", "m", "D", {"t"}, false);
  EXPECT_EQ(bare.results_json, "r_D.json");
  EXPECT_TRUE(bare.samples_jsonl.empty());
}

TEST(WriteOutputs, WritesEveryFileAndReturnsAbsolutePaths) {
  testing::TempDir dir;
  RunResult run = testing::make_run();
  OutputOptions o;
  o.log_samples = true;
  o.now = kT + microseconds(7);
  OutputPaths p = write_outputs(run, dir.path() + "/out", o);
  EXPECT_TRUE(std::filesystem::path(p.results_json).is_absolute());
  EXPECT_EQ(std::filesystem::path(p.results_json).filename().string().rfind("results_", 0), 0u);
  EXPECT_NE(p.results_json.find("/out/org__m-1/"), std::string::npos);
  EXPECT_EQ(testing::read_text(p.results_json), results_json_text(run, true));
  ASSERT_EQ(p.samples_jsonl.size(), 2u);
  EXPECT_NE(p.samples_jsonl[0].find("/samples_arith_mc_"), std::string::npos);
  EXPECT_EQ(
      testing::read_text(p.samples_jsonl[1]),
      testing::read_text(testing::source_dir() + "/tests/report/golden/samples_arith_gen.jsonl"));
  ASSERT_FALSE(p.html.empty());
  EXPECT_NE(testing::read_text(p.html).find("<!DOCTYPE html>"), std::string::npos);
  // No temp files left behind.
  for (const auto& e : std::filesystem::directory_iterator(dir.path() + "/out/org__m-1")) {
    EXPECT_EQ(e.path().string().find(".tmp"), std::string::npos) << e.path();
  }
}

TEST(WriteOutputs, WithoutSamplesNoTaskHashes) {
  testing::TempDir dir;
  RunResult run = testing::make_run();
  OutputPaths p = write_outputs(run, dir.file("res.json"), false);
  EXPECT_TRUE(p.samples_jsonl.empty());
  Json j = Json::parse(testing::read_text(p.results_json));
  EXPECT_TRUE(j["task_hashes"].empty());
  EXPECT_EQ(std::filesystem::path(p.results_json).parent_path(), std::filesystem::path(dir.path()));
}

TEST(LoadResults, ReadsResultsAndSamplesBesideThem) {
  testing::TempDir dir;
  RunResult run = testing::make_run();
  OutputOptions o;
  o.log_samples = true;
  o.write_html = false;
  OutputPaths p = write_outputs(run, dir.path(), o);
  LoadedResults loaded = load_results(p.results_json);
  EXPECT_EQ(loaded.results, results_json(run, true));
  ASSERT_EQ(loaded.samples.size(), 2u);
  EXPECT_EQ(loaded.samples["arith_gen"].size(), 4u);
  EXPECT_EQ(loaded.samples_files.size(), 2u);
  EXPECT_EQ(default_html_path(p.results_json).substr(p.results_json.rfind('/') + 1, 7), "report_");
  EXPECT_EQ(default_html_path("x/run_D.json"), "x/run_D.html");
}

// Sample lines are read with parse_json_fast: each record is what Json::parse makes of its
// line (types and member order included), and a bad line is named as before.
TEST(LoadResults, SampleRecordsAreTheirLinesParsed) {
  testing::TempDir dir;
  RunResult run = testing::make_run();
  OutputOptions o;
  o.log_samples = true;
  o.write_html = false;
  OutputPaths p = write_outputs(run, dir.path(), o);
  const std::string& gen = p.samples_jsonl[1];
  const std::string text = testing::read_text(gen);
  LoadedResults loaded = load_results(p.results_json);
  const auto& records = loaded.samples["arith_gen"];
  size_t i = 0, pos = 0;
  while (pos < text.size()) {
    size_t nl = text.find('\n', pos);
    ASSERT_LT(i, records.size());
    EXPECT_EQ(records[i].dump(), Json::parse(text.substr(pos, nl - pos)).dump()) << i;
    ++i;
    pos = nl + 1;
  }
  EXPECT_EQ(i, records.size());

  testing::write_text(gen,
                      text + "{\"doc_id\": 1.5e3, \"x\": [1, -0, 2.50]}\r\n{\"doc_id\": 9,\r\n");
  try {
    load_results(p.results_json);
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_EQ(e.what_failed(), "invalid JSON in samples file");
    EXPECT_EQ(e.where(), gen + ":" + std::to_string(records.size() + 2));
  }
  testing::write_text(gen, text + "{\"doc_id\": 1.5e3, \"x\": [1, -0, 2.50]}\r\n");
  LoadedResults again = load_results(p.results_json);
  EXPECT_EQ(again.samples["arith_gen"].back().dump(), R"({"doc_id":1500.0,"x":[1,0,2.5]})");
}

TEST(LoadResults, ClearErrors) {
  testing::TempDir dir;
  testing::write_text(dir.file("bad.json"), "{not json");
  EXPECT_THROW(load_results(dir.file("bad.json")), Error);
  testing::write_text(dir.file("other.json"), "{\"a\": 1}");
  EXPECT_THROW(load_results(dir.file("other.json")), Error);
  EXPECT_THROW(load_results(dir.file("missing.json")), Error);
}

}  // namespace
}  // namespace retort
