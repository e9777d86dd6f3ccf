// `retort report` through the real binary: tables on stdout, the HTML written, clear errors.
#include <gtest/gtest.h>

#include <filesystem>

#include "report/report.h"
#include "report/report_fixture.h"
#include "support/test_support.h"

namespace retort {
namespace {

TEST(ReportCommand, PrintsTablesAndWritesHtml) {
  testing::TempDir dir;
  OutputOptions o;
  o.log_samples = true;
  o.write_html = false;
  RunResult run = testing::make_run();
  OutputPaths p = write_outputs(run, dir.path(), o);
  std::string html = dir.file("custom.html");
  auto r = testing::run_retort({"report", p.results_json, "--out", html});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  Json results = results_json(run, true);
  EXPECT_NE(r.out.find(format_score_table(results, "results")), std::string::npos) << r.out;
  EXPECT_NE(r.out.find(format_score_table(results, "groups")), std::string::npos);
  EXPECT_NE(r.out.find("Run Statistics"), std::string::npos);
  EXPECT_NE(r.out.find("HTML report: " + html), std::string::npos);
  std::string page = testing::read_text(html);
  EXPECT_NE(page.find("The answer is #### 4"), std::string::npos);  // samples were read

  auto def = testing::run_retort({"report", p.results_json});
  ASSERT_EQ(def.exit_code, 0) << def.err;
  EXPECT_TRUE(std::filesystem::exists(default_html_path(p.results_json)));
}

TEST(ReportCommand, NoHtmlAndErrors) {
  testing::TempDir dir;
  OutputPaths p = write_outputs(testing::make_run(), dir.file("r.json"), false);
  auto r = testing::run_retort({"report", p.results_json, "--no-html"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out.find("HTML report"), std::string::npos);

  auto missing = testing::run_retort({"report", dir.file("nope.json")});
  EXPECT_EQ(missing.exit_code, 2);
  EXPECT_NE(missing.err.find("nope.json"), std::string::npos);
  auto usage = testing::run_retort({"report"});
  EXPECT_NE(usage.exit_code, 0);
}

}  // namespace
}  // namespace retort
