// Renders every case in fixtures/jinja_cases.json (produced by the real Jinja2 with
// lm-eval's and transformers' settings, see gen_jinja_cases.py) and compares bytes.
#include <gtest/gtest.h>

#include "template/template.h"
#include "util/error.h"
#include "util/json.h"
#include "util/strings.h"

namespace retort {
namespace {

Json load_cases() {
  return Json::parse(
      read_file(std::string(RETORT_SOURCE_DIR) + "/tests/template/fixtures/jinja_cases.json"));
}

TEST(JinjaConformance, EveryCaseMatchesJinja2) {
  Json cases = load_cases();
  ASSERT_GT(cases.size(), 50u);
  for (const auto& c : cases) {
    const std::string name = c["name"].get<std::string>();
    SCOPED_TRACE(name);
    TemplateOptions opt =
        c["mode"] == "hf_chat" ? TemplateOptions::hf_chat() : TemplateOptions::lm_eval();
    if (c.contains("expect")) {
      try {
        Template t = Template::parse(c["template"].get<std::string>(), name, opt);
        EXPECT_EQ(t.render(c["vars"]), c["expect"].get<std::string>());
      } catch (const Error& e) {
        ADD_FAILURE() << e.message();
      }
    } else {
      EXPECT_THROW(
          { Template::parse(c["template"].get<std::string>(), name, opt).render(c["vars"]); },
          Error);
    }
  }
}

}  // namespace
}  // namespace retort
