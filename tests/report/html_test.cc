// The HTML report: self-contained, shows scores and samples, escapes model output.
#include <gtest/gtest.h>

#include "report/report.h"
#include "report/report_fixture.h"

namespace retort {
namespace {

TEST(Html, EscapesText) {
  EXPECT_EQ(html_escape("<script>alert('x') & \"y\"</script>"),
            "&lt;script&gt;alert(&#39;x&#39;) &amp; &quot;y&quot;&lt;/script&gt;");
}

TEST(Html, ShowsScoresStatsAndSamples) {
  std::string html = render_html(testing::make_run());
  EXPECT_EQ(html.rfind("<!DOCTYPE html>", 0), 0u);
  EXPECT_NE(html.find("exact_match"), std::string::npos);
  EXPECT_NE(html.find("flexible-extract"), std::string::npos);
  EXPECT_NE(html.find(">0.5000<"), std::string::npos);
  EXPECT_NE(html.find("± 0.5000"), std::string::npos);
  EXPECT_NE(html.find("95% CI [-0.4800, 1.4800]"), std::string::npos);
  EXPECT_NE(html.find("Run statistics"), std::string::npos);
  EXPECT_NE(html.find("The answer is #### 4"), std::string::npos);
  EXPECT_NE(html.find("Q: 1+1?\nA:"), std::string::npos);
  EXPECT_NE(html.find("[invalid]"), std::string::npos);
}

TEST(Html, ModelOutputCannotInjectMarkup) {
  std::string html = render_html(testing::make_run());
  EXPECT_EQ(html.find("<script"), std::string::npos);
  EXPECT_NE(html.find("6 &lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;"), std::string::npos);
}

TEST(Html, SelfContainedAndSecretFree) {
  std::string html = render_html(testing::make_run());
  EXPECT_EQ(html.find("<link"), std::string::npos);
  EXPECT_EQ(html.find(" src="), std::string::npos);
  EXPECT_EQ(html.find("@import"), std::string::npos);
  EXPECT_EQ(html.find("sk-secret"), std::string::npos);
  EXPECT_NE(html.find("num_concurrent=8"), std::string::npos);
}

TEST(Html, LimitsSamplesPerTask) {
  RunResult run = testing::make_run();
  std::string html = render_html(run, 1);
  EXPECT_NE(html.find("2+2?"), std::string::npos);
  EXPECT_EQ(html.find("3+3?"), std::string::npos);
}

TEST(Html, RendersFromAResultsFileWithoutSamplesOrStats) {
  Json results = results_json(testing::make_run());
  results.erase("retort");
  std::string html = render_html(results, {});
  EXPECT_NE(html.find("arith_mc"), std::string::npos);
  EXPECT_EQ(html.find("Run statistics"), std::string::npos);
  EXPECT_EQ(html.find("<h2>Samples"), std::string::npos);
}

TEST(Html, ChatPromptsShowAsMessages) {
  RunResult run = testing::make_run();
  run.tasks[1].samples[0].requests[0].arguments["arg_0"] =
      Json::array({"[{\"role\": \"system\", \"content\": \"Be brief.\"}, {\"role\": \"user\", "
                   "\"content\": \"Q: 2+2?\"}]"});
  std::string html = render_html(run);
  EXPECT_NE(html.find("[system]\nBe brief.\n\n[user]\nQ: 2+2?"), std::string::npos);
}

}  // namespace
}  // namespace retort
