// A Jinja2 subset for lm-eval prompt templates (doc_to_text, doc_to_target, ...) and
// Hugging Face chat templates. A template is parsed once into a tree and rendered many
// times; rendering never re-parses and looks variables up without copying them.
//
// Semantics follow Jinja2 as lm-eval configures it (TemplateOptions::lm_eval(): strict
// undefined, keep_trailing_newline, no autoescape, no trim/lstrip blocks) or as
// transformers configures it for chat templates (TemplateOptions::hf_chat()). Values print
// as Python str() (1.0, True, None, ['a', "it's"]). docs/templates.md lists the supported
// syntax, filters, tests and methods.
//
// Errors (syntax, undefined variables, type errors, raise_exception()) are retort::Error
// whose where() is "<template name>:<line>:<column>".
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "util/json.h"

namespace retort {

struct TemplateOptions {
  // Using an undefined value for anything but `is defined`, `default`, `if` tests is an
  // error (Jinja2 StrictUndefined). When false, undefined prints as "" and is falsy.
  bool strict_undefined = true;
  // When false, one trailing newline of the source is dropped (Jinja2's default).
  bool keep_trailing_newline = true;
  // Jinja2 trim_blocks: the first newline after a block tag is removed.
  bool trim_blocks = false;
  // Jinja2 lstrip_blocks: spaces and tabs before a block tag on its line are removed.
  bool lstrip_blocks = false;
  // tojson as transformers defines it (json.dumps, ensure_ascii=False, keys unsorted, no
  // HTML escaping) instead of Jinja2's (sorted keys, <>&' escaped as \u00XX).
  bool hf_tojson = false;

  // lm-eval's environment: StrictUndefined, keep_trailing_newline=True.
  static TemplateOptions lm_eval() { return TemplateOptions{}; }
  // transformers' apply_chat_template environment: Undefined, trim_blocks, lstrip_blocks,
  // loop controls, its own tojson.
  static TemplateOptions hf_chat() {
    TemplateOptions o;
    o.strict_undefined = false;
    o.keep_trailing_newline = false;
    o.trim_blocks = true;
    o.lstrip_blocks = true;
    o.hf_tojson = true;
    return o;
  }
};

class Template {
 public:
  // Parses source; throws retort::Error naming name:line:col on a syntax error.
  static Template parse(std::string_view source, std::string name,
                        const TemplateOptions& options = TemplateOptions::lm_eval());

  // Renders with the keys of vars (a JSON object) as top-level variables. Thread-safe:
  // a parsed Template is immutable and may be rendered from many threads at once.
  std::string render(const Json& vars) const;

  const std::string& name() const;
  const std::string& source() const;

  Template(const Template&) = default;
  Template(Template&&) noexcept = default;
  Template& operator=(const Template&) = default;
  Template& operator=(Template&&) noexcept = default;
  ~Template();

  struct Impl;

 private:
  explicit Template(std::shared_ptr<const Impl> impl);
  std::shared_ptr<const Impl> impl_;
};

// Parses (once per distinct source and options, in a process-wide cache guarded by a
// mutex) and renders. Convenient for lm-eval fields rendered once per doc.
std::string render_template(std::string_view source, const Json& vars, const std::string& name,
                            const TemplateOptions& options = TemplateOptions::lm_eval());

}  // namespace retort
