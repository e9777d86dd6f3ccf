// Internal to src/template: walks a parsed tree and writes its output.
#pragma once

#include <string>
#include <string_view>

#include "template/ast.h"

namespace retort::tmpl {

// Renders body with the keys of vars as top-level variables, appending to out.
void render_tree(const Body& body, std::string_view source, const std::string& name,
                 const TemplateOptions& options, const Json& vars, std::string& out);

}  // namespace retort::tmpl
