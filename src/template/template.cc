#include "template/template.h"

#include "util/error.h"

namespace retort {

struct Template::Impl {
  std::string name;
  std::string source;
};

Template::Template(std::shared_ptr<const Impl> impl) : impl_(std::move(impl)) {}
Template::~Template() = default;

Template Template::parse(std::string_view source, std::string name, const TemplateOptions&) {
  auto impl = std::make_shared<Impl>();
  impl->name = std::move(name);
  impl->source = std::string(source);
  return Template(std::move(impl));
}

std::string Template::render(const Json&) const {
  throw Error("templates are not implemented yet", impl_->name);
}

const std::string& Template::name() const {
  return impl_->name;
}
const std::string& Template::source() const {
  return impl_->source;
}

std::string render_template(std::string_view source, const Json& vars, const std::string& name,
                            const TemplateOptions& options) {
  return Template::parse(source, name, options).render(vars);
}

}  // namespace retort
