#include "report/text.h"

#include <cmath>

#include <fmt/format.h>
#include <utf8proc.h>

#include "util/pyvalue.h"

namespace retort::report_text {

size_t display_width(std::string_view s) {
  size_t width = 0;
  size_t pos = 0;
  while (pos < s.size()) {
    char32_t cp = decode_utf8(s, pos);
    int w = utf8proc_charwidth(static_cast<utf8proc_int32_t>(cp));
    if (w > 0) width += static_cast<size_t>(w);
  }
  return width;
}

std::string pad_right(std::string_view s, size_t width) {
  size_t w = display_width(s);
  std::string out(s);
  if (w < width) out.append(width - w, ' ');
  return out;
}

std::string pad_left(std::string_view s, size_t width) {
  size_t w = display_width(s);
  std::string out;
  if (w < width) out.append(width - w, ' ');
  out += s;
  return out;
}

std::string center(std::string_view s, size_t width) {
  size_t w = display_width(s);
  if (w >= width) return std::string(s);
  size_t left = (width - w) / 2;
  std::string out(left, ' ');
  out += s;
  out.append(width - w - left, ' ');
  return out;
}

std::string truncate(std::string_view s, size_t width) {
  if (display_width(s) <= width) return std::string(s);
  if (width == 0) return "";
  size_t budget = width - 1;  // room for the ellipsis
  std::string out;
  size_t used = 0;
  size_t pos = 0;
  while (pos < s.size()) {
    size_t start = pos;
    char32_t cp = decode_utf8(s, pos);
    int w = utf8proc_charwidth(static_cast<utf8proc_int32_t>(cp));
    size_t cw = w > 0 ? static_cast<size_t>(w) : 0;
    if (used + cw > budget) break;
    used += cw;
    out.append(s.substr(start, pos - start));
  }
  return out + "…";
}

std::string fixed(double v, int decimals) {
  if (std::isnan(v)) return "nan";
  if (std::isinf(v)) return v > 0 ? "inf" : "-inf";
  return fmt::format("{:.{}f}", v, decimals);
}

std::string repeat(std::string_view s, size_t n) {
  std::string out;
  out.reserve(s.size() * n);
  for (size_t i = 0; i < n; ++i) out += s;
  return out;
}

}  // namespace retort::report_text
