// The template engine as lm-eval task files and chat templates use it. Expected strings
// are the bytes Jinja2 produces with the same settings.
#include <gtest/gtest.h>

#include <thread>
#include <vector>

#include "template/template.h"
#include "util/error.h"
#include "util/json.h"
#include "util/pyvalue.h"

namespace retort {
namespace {

std::string render(std::string_view src, const Json& vars,
                   const TemplateOptions& opt = TemplateOptions::lm_eval()) {
  return Template::parse(src, "t", opt).render(vars);
}

// The Error a render throws (fails the test when none is thrown).
Error render_error(std::string_view src, const Json& vars, const std::string& name = "doc_to_text",
                   const TemplateOptions& opt = TemplateOptions::lm_eval()) {
  try {
    Template::parse(src, name, opt).render(vars);
  } catch (const Error& e) {
    return e;
  }
  ADD_FAILURE() << "no error for: " << src;
  return Error("none");
}

const Json kDoc = Json::parse(R"({
  "question": "Natalia sold clips to 48 of her friends. How many?",
  "answer": "She sold 48/2 = <<48/2=24>>24 clips in May.\n#### 72",
  "choices": ["Paris", "it's", "say \"hi\"", "caf\u00e9"],
  "label": 2,
  "score": 1.0
})");

TEST(LmEvalTemplates, QuestionAnswerKeepsTrailingNewline) {
  EXPECT_EQ(render("Question: {{question}}\nAnswer:", kDoc),
            "Question: Natalia sold clips to 48 of her friends. How many?\nAnswer:");
  EXPECT_EQ(render("{{question}}\n", kDoc), kDoc["question"].get<std::string>() + "\n");
}

TEST(LmEvalTemplates, Gsm8kTarget) {
  EXPECT_EQ(render("{{answer.split('####')[-1].strip()}}", kDoc), "72");
}

TEST(LmEvalTemplates, LetteredChoices) {
  EXPECT_EQ(render("{% for c in choices %}{{ 'ABCD'[loop.index0] }}. {{c}}\n{% endfor %}", kDoc),
            "A. Paris\nB. it's\nC. say \"hi\"\nD. caf\u00e9\n");
  EXPECT_EQ(render("{{ ['A','B','C','D'][label] }}", kDoc), "C");
}

TEST(LmEvalTemplates, ValuesPrintAsPythonStr) {
  EXPECT_EQ(render("{{ 1.0 }} {{ True }} {{ none }} {{ score }} {{ 1e-5 }} {{ 10 / 4 }}", kDoc),
            "1.0 True None 1.0 1e-05 2.5");
  EXPECT_EQ(render("{{ ['a', \"it's\"] }}", kDoc), "['a', \"it's\"]");
}

TEST(LmEvalTemplates, ChoicesRoundTripThroughLiteralEval) {
  std::string rendered = render("{{choices}}", kDoc);
  EXPECT_EQ(rendered, R"(['Paris', "it's", 'say "hi"', 'café'])");
  EXPECT_EQ(py_literal_eval(rendered), kDoc["choices"]);
}

TEST(Templates, WhitespaceControl) {
  EXPECT_EQ(render("a  {{- 'b' -}}  c", {}), "abc");
  EXPECT_EQ(render("x\n{%- if true %}\ny{% endif -%}\n  z", {}), "x\nyz");
  EXPECT_EQ(render("1 {#- note -#} 2", {}), "12");
  EXPECT_EQ(render("{% raw %}{{ x }}{% endraw %}", {}), "{{ x }}");
}

TEST(Templates, TrimAndLstripBlocksForChatTemplates) {
  std::string src = "<s>\n  {% for m in messages %}\n    [{{ m }}]\n  {% endfor %}\nend\n";
  Json vars = {{"messages", {"a", "b"}}};
  EXPECT_EQ(render(src, vars, TemplateOptions::hf_chat()), "<s>\n    [a]\n    [b]\nend");
  EXPECT_EQ(render(src, vars), "<s>\n  \n    [a]\n  \n    [b]\n  \nend\n");
}

TEST(Templates, MacrosWithDefaultsAndKeywords) {
  EXPECT_EQ(render("{% macro opt(l, t, sep=': ') %}({{ l }}){{ sep }}{{ t }}{% endmacro %}"
                   "{{ opt('A', 'x') }}|{{ opt('B', t='y', sep='=') }}",
                   {}),
            "(A): x|(B)=y");
}

TEST(Templates, NamespaceCarriesValuesOutOfLoops) {
  EXPECT_EQ(
      render("{% set ns = namespace(n=0, last='') %}{% for c in choices %}"
             "{% set ns.n = ns.n + 1 %}{% set ns.last = c %}{% endfor %}{{ ns.n }} {{ ns.last }}",
             kDoc),
      "4 caf\u00e9");
  // A plain set inside a loop does not leak out (Jinja scoping).
  EXPECT_EQ(
      render("{% set n = 0 %}{% for c in choices %}{% set n = n + 1 %}{% endfor %}{{ n }}", kDoc),
      "0");
}

TEST(Templates, ListsBuiltInTheTemplateCanGrow) {
  EXPECT_EQ(render("{% set xs = [] %}{% for c in choices if c|length > 4 %}"
                   "{% set _ = xs.append(c|upper) %}{% endfor %}{{ xs|join(',') }}",
                   kDoc),
            "PARIS,SAY \"HI\"");
  Error e = render_error("{% set _ = choices.append(1) %}", kDoc);
  EXPECT_NE(e.what_failed().find("created in the template"), std::string::npos);
}

TEST(Templates, RegexReplaceFollowsPythonReSub) {
  EXPECT_EQ(
      render(
          R"({{ answer | regex_replace('<<[^>]*>>', '') | regex_replace('#### (\\d+)', 'A=\\1') }})",
          kDoc),
      "She sold 48/2 = 24 clips in May.\nA=72");
  EXPECT_EQ(render(R"({{ 'a1b22' | regex_replace('(?P<d>\\d+)', '<\\g<d>>', 1) }})", {}),
            "a<1>b22");
  EXPECT_EQ(render(R"({{ 'caf\u00e9 x' | regex_replace('\\w+', 'W') }})", {}), "W W");
}

TEST(Templates, TojsonIsHtmlSafeAndSortedInLmEvalMode) {
  Json vars = {{"v", {{"b", "<a & 'b'>"}, {"a", "\u00e9"}}}};
  EXPECT_EQ(render("{{ v|tojson }}", vars),
            R"({"a": "\u00e9", "b": "\u003ca \u0026 \u0027b\u0027\u003e"})");
  EXPECT_EQ(render("{{ v|tojson }}", vars, TemplateOptions::hf_chat()),
            "{\"b\": \"<a & 'b'>\", \"a\": \"\u00e9\"}");
}

// A ChatML-style template written for this test.
constexpr const char* kChatMl =
    "{%- for message in messages %}\n"
    "    {%- if loop.first and message.role != 'system' %}\n"
    "        {{- '<|im_start|>system\\nYou are a helpful assistant.<|im_end|>\\n' }}\n"
    "    {%- endif %}\n"
    "    {%- if message.role not in ['system', 'user', 'assistant'] %}\n"
    "        {{- raise_exception('Unknown role: ' + message.role) }}\n"
    "    {%- endif %}\n"
    "    {{- '<|im_start|>' + message.role + '\\n' + message.content | trim + '<|im_end|>\\n' }}\n"
    "{%- endfor %}\n"
    "{%- if add_generation_prompt %}\n"
    "    {{- '<|im_start|>assistant\\n' }}\n"
    "{%- endif %}\n";

TEST(ChatTemplates, ChatMlWithGenerationPrompt) {
  Json vars = Json::parse(R"({"messages": [
      {"role": "user", "content": "Q: 2+2?\nA:"},
      {"role": "assistant", "content": " 4 "},
      {"role": "user", "content": "Q: 3+3?\nA:"}], "add_generation_prompt": true})");
  EXPECT_EQ(render(kChatMl, vars, TemplateOptions::hf_chat()),
            "<|im_start|>system\nYou are a helpful assistant.<|im_end|>\n"
            "<|im_start|>user\nQ: 2+2?\nA:<|im_end|>\n"
            "<|im_start|>assistant\n4<|im_end|>\n"
            "<|im_start|>user\nQ: 3+3?\nA:<|im_end|>\n"
            "<|im_start|>assistant\n");
}

TEST(ChatTemplates, RaiseExceptionNamesTemplateAndPosition) {
  Json vars = Json::parse(R"({"messages": [{"role": "robot", "content": "x"}]})");
  Error e = render_error(kChatMl, vars, "chat_template", TemplateOptions::hf_chat());
  EXPECT_EQ(e.what_failed(), "Unknown role: robot");
  EXPECT_EQ(e.where(), "chat_template:6:13");
}

// A Llama-3-style template: system message taken out of the list, header tokens.
TEST(ChatTemplates, Llama3StyleSystemHandling) {
  const char* src =
      "{{- bos_token }}\n"
      "{%- if messages[0]['role'] == 'system' %}\n"
      "    {%- set system_message = messages[0]['content'] | trim %}\n"
      "    {%- set messages = messages[1:] %}\n"
      "{%- else %}\n"
      "    {%- set system_message = '' %}\n"
      "{%- endif %}\n"
      "{%- if system_message %}\n"
      "    {{- '<|start_header_id|>system<|end_header_id|>\\n\\n' + system_message + '<|eot_id|>' "
      "}}\n"
      "{%- endif %}\n"
      "{%- for message in messages %}\n"
      "    {{- '<|start_header_id|>' + message['role'] + '<|end_header_id|>\\n\\n' + "
      "message['content'] | trim + '<|eot_id|>' }}\n"
      "{%- endfor %}\n"
      "{%- if add_generation_prompt %}\n"
      "    {{- '<|start_header_id|>assistant<|end_header_id|>\\n\\n' }}\n"
      "{%- endif %}\n";
  Json with_sys = Json::parse(R"({"bos_token": "<|begin_of_text|>", "add_generation_prompt": true,
      "messages": [{"role": "system", "content": "Answer briefly.\n\n"}, {"role": "user", "content": "Hi"}]})");
  EXPECT_EQ(
      render(src, with_sys, TemplateOptions::hf_chat()),
      "<|begin_of_text|><|start_header_id|>system<|end_header_id|>\n\nAnswer briefly.<|eot_id|>"
      "<|start_header_id|>user<|end_header_id|>\n\nHi<|eot_id|>"
      "<|start_header_id|>assistant<|end_header_id|>\n\n");
  Json no_sys = Json::parse(R"({"bos_token": "<s>", "add_generation_prompt": false,
      "messages": [{"role": "user", "content": "Hi"}]})");
  EXPECT_EQ(render(src, no_sys, TemplateOptions::hf_chat()),
            "<s><|start_header_id|>user<|end_header_id|>\n\nHi<|eot_id|>");
}

TEST(Errors, UndefinedVariableNamesTemplateLineAndColumn) {
  Error e = render_error("Q: {{ question }}\nA: {{ answr }}", kDoc);
  EXPECT_EQ(e.what_failed(), "undefined variable 'answr'");
  EXPECT_EQ(e.where(), "doc_to_text:2:7");
  EXPECT_FALSE(e.hint().empty());
}

TEST(Errors, UndefinedAttributeAndIndex) {
  EXPECT_EQ(render_error("{{ choices[9] }}", kDoc).what_failed(), "undefined item [9]");
  Error e = render_error("{{ 1 }}{{ question.nope }}", kDoc);
  EXPECT_EQ(e.what_failed(), "undefined attribute 'nope'");
  EXPECT_EQ(e.where(), "doc_to_text:1:19");
  EXPECT_EQ(render_error("{% if missing %}{% endif %}", kDoc).what_failed(),
            "undefined variable 'missing'");
  EXPECT_EQ(render("{{ missing is defined }} {{ missing | default('d') }}", kDoc), "False d");
}

TEST(Errors, SyntaxErrorsHavePositions) {
  try {
    Template::parse("line one\n{% if x %}\nno end", "task.yaml:doc_to_text");
    ADD_FAILURE() << "no syntax error";
  } catch (const Error& e) {
    EXPECT_NE(e.what_failed().find("expected {% endif %}"), std::string::npos) << e.what_failed();
    EXPECT_EQ(e.where(), "task.yaml:doc_to_text:3:7");
  }
  try {
    Template::parse("ok\n  {{ 1 + }}", "t");
    ADD_FAILURE() << "no syntax error";
  } catch (const Error& e) {
    EXPECT_EQ(e.where(), "t:2:10");
  }
  try {
    Template::parse("{% include 'x.j2' %}", "t");
    ADD_FAILURE() << "no syntax error";
  } catch (const Error& e) {
    EXPECT_EQ(e.what_failed(), "template syntax error: unknown tag 'include'");
  }
}

TEST(Errors, UnknownFiltersAndTestsFailAtParseTime) {
  try {
    Template::parse("{% for c in choices %}{{ c | uper }}{% endfor %}", "t");
    ADD_FAILURE() << "no error";
  } catch (const Error& e) {
    EXPECT_EQ(e.what_failed(), "template syntax error: unknown filter 'uper'");
    EXPECT_EQ(e.where(), "t:1:30");
  }
  EXPECT_THROW(Template::parse("{{ x is frobbed }}", "t"), Error);
}

TEST(Templates, PythonEdgeCases) {
  EXPECT_EQ(
      render("{{ -7 // 2 }} {{ -7 % 3 }} {{ 7 % -3 }} {{ 2 ** -1 }} {{ 1e16 }} {{ 0.1 + 0.2 }}",
             {}),
      "-4 2 -2 0.5 1e+16 0.30000000000000004");
  EXPECT_EQ(
      render("{{ 'Q%d: %s' % (1, 'x') }}|{{ '  a  b '.split(none, 1) }}|{{ 'café'[-1] }}", {}),
      "Q1: x|['a', 'b ']|é");
  EXPECT_EQ(render("{{ 'it\\'s'.title() }} {{ \"it's\" | title }}", {}), "It'S It's");
}

// Paths the renderer takes for common lm-eval shapes (strip from the end, split(...)[i]
// without the list, ASCII string indexing, string filters) give what the general ones do.
TEST(FastPaths, StripFromTheEnd) {
  EXPECT_EQ(render("[{{ '  a b \u00a0'.strip() }}]", {}), "[a b]");
  EXPECT_EQ(render("[{{ ' x\u3000 \n'.rstrip() }}]", {}), "[ x]");
  EXPECT_EQ(render("[{{ 'x\u00e9 \t'.rstrip() }}][{{ '\u00e9'.strip() }}]", {}),
            "[x\u00e9][\u00e9]");
  EXPECT_EQ(render("[{{ ' \u2003 '.strip() }}][{{ '   '.strip() }}][{{ ''.rstrip() }}]", {}),
            "[][][]");
  EXPECT_EQ(render("[{{ 'xxabcxx'.strip('x') }}][{{ 'ab  \u00e9'.strip('\u00e9 ') }}]", {}),
            "[abc][ab]");
  EXPECT_EQ(render("[{{ '  a  '.lstrip() }}][{{ '  a  '.rstrip() }}]", {}), "[a  ][  a]");
}

TEST(FastPaths, SplitThenIndex) {
  EXPECT_EQ(render("{{ answer.split('####')[-1].strip() }}", kDoc), "72");
  EXPECT_EQ(render("{{ 'a,b,c'.split(',')[0] }}|{{ 'a,b,c'.rsplit(',', 1)[0] }}", {}), "a|a,b");
  EXPECT_EQ(render("{{ 'a  b'.split(none, 1)[1] }}|{{ 'a b'.split()[True] }}", {}), "b|b");
  EXPECT_EQ(render("{{ 'a,b'.split(',')[-2] }}{{ 'a,b'.split(',')[1] is defined }}", {}), "aTrue");
  EXPECT_EQ(render("{{ 'a,b'.split(',')[2] is defined }}", {}), "False");
  EXPECT_EQ(render("[{{ 'aaa'.split('aa')[-1] }}|{{ 'aaa'.split('aa')[-2] }}|"
                   "{{ 'aaa'.split('aa')[-3] is defined }}]",
                   {}),
            "[a||False]");
  // rsplit cuts from the right: overlapping separators fall elsewhere than with split.
  EXPECT_EQ(
      render("{{ 'aaa'.rsplit('aa') }}{{ 'aaa'.rsplit('aa')[0] }}{{ 'a,b,,c'.rsplit(',') }}", {}),
      "['a', '']a['a', 'b', '', 'c']");
  EXPECT_EQ(render("[{{ 'x##'.split('#')[-1] }}|{{ 'abc'.split('#')[0] }}|{{ 'abc'.split('#')[-1] "
                   "}}|{{ 'a#b#c'.split('#')[1] }}|{{ 'a#b#c'.split('#', 1)[-1] }}]",
                   {}),
            "[|abc|abc|b|b#c]");
  EXPECT_EQ(render_error("{{ 'a,b'.split(',')[5] }}", {}).what_failed(), "undefined item [5]");
  EXPECT_EQ(render_error("{{ '  '.split()[0] }}", {}).what_failed(), "undefined item [0]");
  EXPECT_EQ(render_error("{{ 'ab'.split('')[0] }}", {}).what_failed(), "empty separator");
  EXPECT_EQ(render_error("{{ choices.split(',')[0] }}", kDoc).what_failed(),
            "'list' object has no method 'split'");
  EXPECT_EQ(render_error("{{ nope.split(',')[0] }}", kDoc).what_failed(),
            "undefined variable 'nope'");
  Error e = render_error("{{ 1 }}{{ label.split(',')[0] }}", kDoc);
  EXPECT_EQ(e.what_failed(), "'int' object has no method 'split'");
  EXPECT_EQ(e.where(), render_error("{{ 1 }}{{ label.split(',') }}", kDoc).where());
  // A float index is no list index: undefined, as without the shortcut.
  EXPECT_EQ(render("{{ 'a,b'.split(',')[0.0] is defined }}", {}), "False");
}

TEST(FastPaths, StringIndexAndStringFilters) {
  EXPECT_EQ(render("{{ 'ABCD'[1] }}{{ 'ABCD'[-1] }}{{ 'caf\u00e9'[3] }}{{ 'caf\u00e9'[-2] }}", {}),
            "BD\u00e9f");
  EXPECT_EQ(render("{% for c in choices %}{{ 'ABCD'[loop.index0] }}{% endfor %}", kDoc), "ABCD");
  EXPECT_EQ(render_error("{{ 'AB'[5] }}", {}).what_failed(), "undefined item [5]");
  EXPECT_EQ(render("{{ '  Hello  World ' | trim | replace('  ', ' ') | lower }}", {}),
            "hello world");
  EXPECT_EQ(
      render("{{ 'xxaxx' | trim('x') }}{{ 'ab' | upper }}{{ 5 | lower }}{{ [1] | upper }}", {}),
      "aAB5[1]");
  EXPECT_EQ(render("{{ 'aaa' | replace('a', 'b', 2) }}", {}), "bba");
  EXPECT_EQ(render_error("{{ nope | lower }}", {}).what_failed(), "undefined variable 'nope'");
}

TEST(Api, RenderAfterALargeRenderIsExact) {
  Template big = Template::parse("{{ 'x' * n }}", "t");
  EXPECT_EQ(big.render({{"n", 3000000}}).size(), 3000000u);
  EXPECT_EQ(big.render({{"n", 2}}), "xx");
  EXPECT_EQ(render("{{ a }}", {{"a", "short"}}), "short");
}

TEST(Errors, TypeErrorsArePythonLike) {
  EXPECT_EQ(render_error("{{ 'a' + 1 }}", {}).what_failed(),
            "unsupported operand types for +: 'str' and 'int'");
  EXPECT_EQ(render_error("{{ 1 // 0 }}", {}).what_failed(), "integer division or modulo by zero");
}

TEST(Api, ParseOnceRenderManyAcrossThreads) {
  Template t = Template::parse("{{ name }}={{ n * 2 }};", "t");
  std::vector<std::string> outs(8);
  std::vector<std::thread> threads;
  for (int i = 0; i < 8; ++i) {
    threads.emplace_back([&, i] {
      for (int k = 0; k < 200; ++k)
        outs[i] = t.render({{"name", "x" + std::to_string(i)}, {"n", k}});
    });
  }
  for (auto& th : threads) th.join();
  for (int i = 0; i < 8; ++i) EXPECT_EQ(outs[i], "x" + std::to_string(i) + "=398;");
  EXPECT_EQ(t.name(), "t");
}

TEST(Api, RenderTemplateCachesBySource) {
  EXPECT_EQ(render_template("{{ a }}", {{"a", 1}}, "f"), "1");
  EXPECT_EQ(render_template("{{ a }}", {{"a", 2}}, "f"), "2");
  EXPECT_EQ(render_template("{{ a }}\n", {{"a", 3}}, "f", TemplateOptions::hf_chat()), "3");
}

TEST(Api, CarriageReturnsAreNormalisedInTheSource) {
  EXPECT_EQ(render("a\r\nb\rc{{ x }}", {{"x", "\r\n"}}), "a\nb\nc\r\n");
}

}  // namespace
}  // namespace retort
