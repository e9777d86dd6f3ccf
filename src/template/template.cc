#include "template/template.h"

#include <mutex>
#include <unordered_map>

#include "template/ast.h"
#include "template/render.h"
#include "util/error.h"

namespace retort {

struct Template::Impl {
  std::string name;
  std::string source;  // newlines normalised to \n, as Jinja's lexer does
  TemplateOptions options;
  tmpl::Body body;
};

namespace {

// Jinja reads templates with universal newlines and, unless keep_trailing_newline, drops
// one final newline.
std::string normalise(std::string_view src, bool keep_trailing_newline) {
  std::string out;
  out.reserve(src.size());
  for (size_t i = 0; i < src.size(); ++i) {
    if (src[i] == '\r') {
      out += '\n';
      if (i + 1 < src.size() && src[i + 1] == '\n') ++i;
    } else {
      out += src[i];
    }
  }
  if (!keep_trailing_newline && !out.empty() && out.back() == '\n') out.pop_back();
  return out;
}

}  // namespace

Template::Template(std::shared_ptr<const Impl> impl) : impl_(std::move(impl)) {}
Template::~Template() = default;

Template Template::parse(std::string_view source, std::string name,
                         const TemplateOptions& options) {
  auto impl = std::make_shared<Impl>();
  impl->name = std::move(name);
  impl->source = normalise(source, options.keep_trailing_newline);
  impl->options = options;
  impl->body = tmpl::parse_template(impl->source, impl->name, impl->options);
  return Template(std::move(impl));
}

std::string Template::render(const Json& vars) const {
  // Rendered into a per-thread buffer that keeps its capacity, then copied out at its size:
  // one allocation for the result instead of one per growth of the string. A render inside
  // a render (none today) gets its own string.
  thread_local std::string scratch;
  thread_local bool busy = false;
  if (busy) {
    std::string out;
    tmpl::render_tree(impl_->body, impl_->source, impl_->name, impl_->options, vars, out);
    return out;
  }
  busy = true;
  struct Release {
    ~Release() {
      busy = false;
      if (scratch.capacity() > (size_t{1} << 20)) std::string().swap(scratch);
    }
  } release;
  scratch.clear();
  tmpl::render_tree(impl_->body, impl_->source, impl_->name, impl_->options, vars, scratch);
  return std::string(scratch);
}

const std::string& Template::name() const {
  return impl_->name;
}
const std::string& Template::source() const {
  return impl_->source;
}

std::string render_template(std::string_view source, const Json& vars, const std::string& name,
                            const TemplateOptions& options) {
  static std::mutex mu;
  static std::unordered_map<std::string, Template> cache;
  std::string key;
  key.reserve(name.size() + source.size() + 8);
  key += static_cast<char>('0' + options.strict_undefined);
  key += static_cast<char>('0' + options.keep_trailing_newline);
  key += static_cast<char>('0' + options.trim_blocks);
  key += static_cast<char>('0' + options.lstrip_blocks);
  key += static_cast<char>('0' + options.hf_tojson);
  key += name;
  key += '\0';
  key += source;
  std::optional<Template> tpl;
  {
    std::lock_guard<std::mutex> lock(mu);
    auto it = cache.find(key);
    if (it != cache.end()) tpl = it->second;
  }
  if (!tpl) {
    tpl = Template::parse(source, name, options);
    std::lock_guard<std::mutex> lock(mu);
    // Bounded: prompts built from many distinct sources must not grow memory forever.
    if (cache.size() > 4096) cache.clear();
    cache.emplace(std::move(key), *tpl);
  }
  return tpl->render(vars);
}

}  // namespace retort
