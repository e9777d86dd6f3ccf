// template_bench: per-doc cost of rendering typical lm-eval templates (doc_to_text,
// doc_to_target, doc_to_choice) over synthetic docs, three ways:
//  - render_template(source, doc, name): the process-wide cache (key, hash, mutex, copy);
//  - Template::render on a template parsed once: the renderer alone;
//  - DocFields (text / target / choices): what planning a task calls per doc.
// Not a test; see bench/README.md ("Templates") for how old and new builds are compared.
//
//   build/bench/template_bench [DOCS [LABEL]]   (LABEL: only the templates whose label has it)
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "prompt/prompt.h"
#include "tasks/tasks.h"
#include "template/template.h"

using namespace retort;

namespace {

double now_s() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

// Median of 7 runs of f over n docs, in ns per doc.
template <typename F>
double per_doc_ns(size_t n, F f) {
  std::vector<double> t;
  for (int rep = 0; rep < 7; ++rep) {
    double t0 = now_s();
    f();
    t.push_back(now_s() - t0);
  }
  std::sort(t.begin(), t.end());
  return 1e9 * t[t.size() / 2] / static_cast<double>(n);
}

std::vector<Doc> make_docs(size_t n) {
  std::vector<Doc> docs;
  docs.reserve(n);
  for (size_t i = 0; i < n; ++i) {
    const std::string k = std::to_string(i);
    Doc d = Json::object();
    d["question"] = "  Natalia sold clips to " + k +
                    " of her friends in April, and then she sold half as many clips in May. "
                    "How many clips did Natalia sell altogether in April and May? ";
    d["answer"] = "Natalia sold " + k + "/2 = <<" + k + "/2=24>>24 clips in May.\n#### " + k;
    d["choices"] = Json::array({"femur " + k, "ulna", "tibia", "skull"});
    d["ending0"] = "walks away " + k;
    d["ending1"] = "cleans the car";
    d["ending2"] = "It's raining";
    d["ending3"] = "sits down";
    d["passage"] = "  The Quick  Brown Fox " + k + " Jumps  Over The Lazy Dog.  ";
    d["label"] = static_cast<int64_t>(i % 4);
    docs.push_back(std::move(d));
  }
  return docs;
}

struct Case {
  const char* label;
  const char* field;  // doc_to_text, doc_to_target or doc_to_choice
  const char* source;
};

const Case kCases[] = {
    {"gsm8k text", "doc_to_text", "Question: {{question}}\nAnswer:"},
    {"gsm8k target", "doc_to_target", "{{answer.split('####')[-1].strip()}}"},
    {"mmlu text", "doc_to_text",
     "{{question.strip()}}\nA. {{choices[0]}}\nB. {{choices[1]}}\nC. {{choices[2]}}\nD. "
     "{{choices[3]}}\nAnswer:"},
    {"for loop", "doc_to_text",
     "{{question.strip()}}\n{% for c in choices %}{{ 'ABCD'[loop.index0] }}. {{ c }}\n{% endfor "
     "%}Answer:"},
    {"choice list", "doc_to_choice", "{{[ending0, ending1, ending2, ending3]}}"},
    {"filters", "doc_to_text", "{{ passage | trim | replace('  ', ' ') | lower }}"},
};

}  // namespace

int main(int argc, char** argv) {
  const size_t n = argc > 1 ? static_cast<size_t>(std::atoll(argv[1])) : 20000;
  const std::vector<Doc> docs = make_docs(n);
  std::printf("%zu docs; ns per doc (median of 7)\n", n);
  std::printf("%-14s %16s %16s %16s\n", "template", "render_template", "Template::render",
              "DocFields");
  size_t sink = 0;
  double total[3] = {0, 0, 0};
  const std::string only = argc > 2 ? argv[2] : "";
  for (const Case& c : kCases) {
    if (std::string(c.label).find(only) == std::string::npos) continue;
    const std::string name = std::string("bench:") + c.field;
    double t_cache = per_doc_ns(n, [&] {
      for (const Doc& d : docs) sink += render_template(c.source, d, name).size();
    });
    const Template tpl = Template::parse(c.source, name);
    double t_tpl = per_doc_ns(n, [&] {
      for (const Doc& d : docs) sink += tpl.render(d).size();
    });
    TaskSpec spec;
    spec.name = "bench";
    spec.doc_to_text = "{{question}}";
    spec.doc_to_target = "{{label}}";
    const std::string field = c.field;
    if (field == "doc_to_text") spec.doc_to_text = c.source;
    if (field == "doc_to_target") spec.doc_to_target = c.source;
    if (field == "doc_to_choice") spec.doc_to_choice = c.source;
    const DocFields fields(spec);
    double t_fields = per_doc_ns(n, [&] {
      for (size_t i = 0; i < docs.size(); ++i) {
        const int64_t idx = static_cast<int64_t>(i);
        if (field == "doc_to_text") sink += fields.text(docs[i], idx).size();
        if (field == "doc_to_target") sink += fields.target(docs[i], idx).size();
        if (field == "doc_to_choice") sink += fields.choices(docs[i], idx)->size();
      }
    });
    total[0] += t_cache;
    total[1] += t_tpl;
    total[2] += t_fields;
    std::printf("%-14s %16.0f %16.0f %16.0f\n", c.label, t_cache, t_tpl, t_fields);
  }
  std::printf("%-14s %16.0f %16.0f %16.0f\n", "sum", total[0], total[1], total[2]);
  return sink == 0 ? 1 : 0;
}
