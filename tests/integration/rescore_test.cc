// `retort rescore` through the real binary: a run against `retort sim`, the sim stopped, the
// run scored again from the results database (same scores), then again after the task's
// filter changed (new verdicts, a new evaluation version that `compare` and `report` name),
// and refused when the prompt changed. SQLite and a real PostgreSQL.
#include <gtest/gtest.h>

#include <filesystem>
#include <regex>

#include "support/pg_server.h"
#include "support/test_support.h"
#include "util/json.h"

namespace retort::testing {
namespace {

// A generative task of 10 docs whose answer is always 5; `pattern` extracts the answer.
std::string write_task(const TempDir& dir, const std::string& pattern,
                       const std::string& prompt = "Q: {{question}}\\nA:") {
  std::string rows;
  for (int i = 0; i < 10; ++i)
    rows += "{\"question\": \"What is " + std::to_string(i) + " + " + std::to_string(5 - i) +
            "?\", \"answer\": \"5\"}\n";
  write_text(dir.file("fives.jsonl"), rows);
  write_text(dir.file("fives.yaml"),
             "task: fives\n"
             "dataset_path: json\n"
             "dataset_kwargs:\n"
             "  data_files:\n"
             "    test: " +
                 dir.file("fives.jsonl") +
                 "\n"
                 "test_split: test\n"
                 "output_type: generate_until\n"
                 "doc_to_text: \"" +
                 prompt +
                 "\"\n"
                 "doc_to_target: \"{{answer}}\"\n"
                 "generation_kwargs:\n"
                 "  until: [\"\\n\"]\n"
                 "filter_list:\n"
                 "  - name: strict-match\n"
                 "    filter:\n"
                 "      - function: regex\n"
                 "        regex_pattern: \"" +
                 pattern +
                 "\"\n"
                 "      - function: take_first\n"
                 "metric_list:\n"
                 "  - metric: exact_match\n"
                 "    aggregation: mean\n"
                 "    higher_is_better: true\n");
  return dir.file("fives.yaml");
}

std::string new_run(const CommandResult& r) {
  std::smatch m;
  if (!std::regex_search(r.out, m, std::regex("run: (\\S+) \\(retort runs show"))) {
    ADD_FAILURE() << "no run id in:\n" << r.out << r.err;
    return "";
  }
  return m[1].str();
}

std::string eval_version_line(const CommandResult& r) {
  std::smatch m;
  if (!std::regex_search(r.out, m, std::regex("eval version (\\S+) -> (\\S+)"))) {
    ADD_FAILURE() << "no eval version in:\n" << r.out << r.err;
    return "";
  }
  return m[1].str() + " -> " + m[2].str();
}

void exercise(const std::string& db) {
  TempDir dir;
  // Every reply is "55": the whole-number pattern reads 55 (wrong), a one-digit one 5.
  const std::string task = write_task(dir, "The answer is (\\\\-?[0-9]+)");
  std::string a;
  {
    SimServer sim({"--model", "m", "--mode", "fixed", "--reply", " The answer is 55."});
    auto r = run_retort({"run", "--model", "hosted_vllm/m", "--base-url", sim.base_url(), "--tasks",
                         task, "--no-cache", "--db", db, "--output_path", dir.file("out/a.json")});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    a = new_run(r);
  }  // the server is gone from here on
  ASSERT_FALSE(a.empty());
  std::string results_file;
  for (const auto& e : std::filesystem::directory_iterator(dir.file("out")))
    if (e.path().filename().string().rfind("a_", 0) == 0 && e.path().extension() == ".json")
      results_file = e.path().string();
  ASSERT_FALSE(results_file.empty());
  Json results = Json::parse(read_text(results_file));
  const std::string version = results["retort"]["eval_versions"]["fives"].get<std::string>();
  EXPECT_TRUE(std::regex_match(version, std::regex("[0-9a-f]{12}-s[0-9]+"))) << version;

  // Same task, same scorer: the same scores and version, from the stored responses alone.
  auto same = run_retort({"rescore", a, "--db", db});
  ASSERT_EQ(same.exit_code, 0) << same.out << same.err;
  EXPECT_NE(same.out.find("fives: exact_match,strict-match 0.0000 -> 0.0000; 0 of 10 verdicts "
                          "changed; eval version " +
                          version + " -> " + version),
            std::string::npos)
      << same.out;
  const std::string b = new_run(same);
  EXPECT_NE(same.out.find("rescored from run " + a + " without asking the server"),
            std::string::npos);
  auto cmp_same = run_retort({"compare", a, b, "--db", db});
  ASSERT_EQ(cmp_same.exit_code, 0) << cmp_same.err;
  EXPECT_NE(cmp_same.out.find("| fives | exact_match,strict-match | 10 | 0.0 | 0.0 | +0.0 |"),
            std::string::npos)
      << cmp_same.out;
  EXPECT_EQ(cmp_same.out.find("evaluation versions differ"), std::string::npos) << cmp_same.out;

  // The extraction changes (one digit): every verdict flips, and the version says so.
  write_task(dir, "The answer is ([0-9])");
  auto fixed = run_retort({"rescore", a, "--db", db, "--output_path", dir.file("out/c.json")});
  ASSERT_EQ(fixed.exit_code, 0) << fixed.out << fixed.err;
  EXPECT_NE(fixed.out.find("fives: exact_match,strict-match 0.0000 -> 1.0000; 10 of 10 verdicts "
                           "changed"),
            std::string::npos)
      << fixed.out;
  const std::string versions = eval_version_line(fixed);
  const std::string newer = versions.substr(versions.find("-> ") + 3);
  EXPECT_EQ(versions.substr(0, version.size()), version);
  EXPECT_NE(newer, version);
  const std::string c = new_run(fixed);
  auto cmp = run_retort({"compare", a, c, "--db", db});
  ASSERT_EQ(cmp.exit_code, 0) << cmp.err;
  EXPECT_NE(cmp.out.find("| fives | exact_match,strict-match | 10 | 0.0 | 100.0 | +100.0 |"),
            std::string::npos)
      << cmp.out;
  EXPECT_NE(
      cmp.out.find("note: fives: evaluation versions differ (A " + version + ", B " + newer + ")"),
      std::string::npos)
      << cmp.out;
  auto rep = run_retort({"report", a, c, "--db", db, "-o", dir.file("r.html")});
  ASSERT_EQ(rep.exit_code, 0) << rep.err;
  EXPECT_NE(rep.out.find("fives: evaluation versions differ"), std::string::npos) << rep.out;
  EXPECT_NE(read_text(dir.file("r.html")).find("evaluation versions differ"), std::string::npos);
  auto show = run_retort({"runs", "show", c, "--db", db, "--format", "json"});
  ASSERT_EQ(show.exit_code, 0) << show.err;
  Json shown = Json::parse(show.out);
  EXPECT_EQ(shown["versions"]["rescored_from"], a);
  EXPECT_EQ(shown["tasks"][0]["eval_version"], newer);

  // Another prompt: the stored answers answer another question; refused, naming the doc.
  write_task(dir, "The answer is ([0-9])", "Question: {{question}}\\nAnswer:");
  auto refused = run_retort({"rescore", a, "--db", db});
  EXPECT_EQ(refused.exit_code, 2) << refused.out << refused.err;
  EXPECT_NE(refused.err.find("task 'fives', doc 0"), std::string::npos) << refused.err;
  EXPECT_NE(refused.err.find("the prompt differs"), std::string::npos) << refused.err;
}

TEST(Rescore, SqliteRescoresFromStoredResponsesWithoutTheServer) {
  TempDir dir;
  exercise(dir.file("runs.db"));
}

TEST(Rescore, PostgresqlRescoresFromStoredResponsesWithoutTheServer) {
  PgServer& pg = PgServer::shared();
  if (!pg.ok()) GTEST_SKIP() << "PostgreSQL tests skipped: " << pg.why();
  std::string url = pg.fresh_database();
  ASSERT_FALSE(url.empty());
  exercise(url);
}

// Loglikelihood answers (several per doc) come back from the store bit for bit: a
// multiple-choice task rescored gives the same accuracy and every verdict unchanged.
TEST(Rescore, MultipleChoiceLoglikelihoodsRoundTrip) {
  TempDir dir;
  std::string rows;
  for (int i = 0; i < 8; ++i)
    rows += "{\"q\": \"Pick " + std::to_string(i) +
            "\", \"choices\": [\"alpha\", \"beta gamma\", \"delta\"], \"label\": " +
            std::to_string(i % 3) + "}\n";
  write_text(dir.file("mc.jsonl"), rows);
  write_text(dir.file("picks.yaml"),
             "task: picks\n"
             "dataset_path: json\n"
             "dataset_kwargs:\n"
             "  data_files:\n"
             "    test: " +
                 dir.file("mc.jsonl") +
                 "\n"
                 "test_split: test\n"
                 "output_type: multiple_choice\n"
                 "doc_to_text: \"{{q}}:\"\n"
                 "doc_to_choice: choices\n"
                 "doc_to_target: label\n"
                 "metric_list:\n"
                 "  - metric: acc\n"
                 "  - metric: acc_norm\n");
  const std::string db = dir.file("runs.db");
  std::string a;
  {
    SimServer sim({"--model", "m"});
    auto r = run_retort({"run", "--model", "hosted_vllm/m", "--base-url", sim.base_url(), "--tasks",
                         dir.file("picks.yaml"), "--no-cache", "--db", db});
    ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
    a = new_run(r);
  }
  auto again = run_retort({"rescore", a, "--db", db});
  ASSERT_EQ(again.exit_code, 0) << again.out << again.err;
  std::smatch m;
  ASSERT_TRUE(std::regex_search(again.out, m,
                                std::regex("picks: acc,none (\\S+) -> (\\S+); 0 of 8 verdicts")))
      << again.out;
  EXPECT_EQ(m[1].str(), m[2].str());
  auto cmp = run_retort({"compare", a, new_run(again), "--db", db, "--all-metrics"});
  ASSERT_EQ(cmp.exit_code, 0) << cmp.err;
  EXPECT_NE(cmp.out.find("| picks | acc_norm,none | 8 |"), std::string::npos) << cmp.out;
  EXPECT_NE(cmp.out.find("+0.0 | [+0.0, +0.0]"), std::string::npos) << cmp.out;
}

}  // namespace
}  // namespace retort::testing
