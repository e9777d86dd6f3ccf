// Latency and throughput over a run: the points the pipeline samples while the engine works,
// and the small inline SVG chart the HTML reports draw from them.
#include <fmt/format.h>

#include <algorithm>
#include <cmath>

#include "report/report.h"

namespace retort {

void SeriesRecorder::push(const RunStats& s) {
  SeriesPoint p;
  p.t_s = s.elapsed_s;
  p.done = s.done();
  p.in_flight = s.in_flight;
  p.ttft_p50_s = s.ttft_p50_s;
  if (!points_.empty() && p.t_s > points_.back().t_s)
    p.tokens_per_s =
        static_cast<double>(s.completion_tokens - last_tokens_) / (p.t_s - points_.back().t_s);
  last_tokens_ = s.completion_tokens;
  points_.push_back(p);
}

void SeriesRecorder::add(const RunStats& s) {
  if (points_.empty()) points_.push_back(SeriesPoint{});  // the start: nothing done yet
  if (!points_.empty() && s.elapsed_s - points_.back().t_s < interval_s_) return;
  push(s);
  if (points_.size() > max_points_) {
    // Every other point goes and the interval doubles: the whole run stays covered evenly.
    std::vector<SeriesPoint> kept;
    for (size_t i = 0; i < points_.size(); i += 2) kept.push_back(points_[i]);
    points_ = std::move(kept);
    interval_s_ *= 2;
  }
}

std::vector<SeriesPoint> SeriesRecorder::finish(const RunStats& s) {
  if (points_.empty()) points_.push_back(SeriesPoint{});
  if (points_.empty() || s.elapsed_s > points_.back().t_s) push(s);
  return points_;
}

namespace {

std::string xml_escape(const std::string& s) {
  std::string o;
  for (char c : s) {
    switch (c) {
      case '&':
        o += "&amp;";
        break;
      case '<':
        o += "&lt;";
        break;
      case '>':
        o += "&gt;";
        break;
      case '"':
        o += "&quot;";
        break;
      default:
        o += c;
    }
  }
  return o;
}

const char* const kColours[] = {"#1f6feb", "#d9480f", "#2b8a3e", "#9c36b5", "#e67700", "#0b7285"};

}  // namespace

std::string series_chart_svg(
    const std::vector<std::pair<std::string, std::vector<SeriesPoint>>>& runs) {
  double t_max = 0;
  bool any = false;
  for (const auto& [name, pts] : runs) {
    if (pts.size() >= 2) any = true;
    for (const auto& p : pts) t_max = std::max(t_max, p.t_s);
  }
  if (!any || t_max <= 0) return "";
  struct Panel {
    const char* title;
    double (*value)(const SeriesPoint&);  // < 0: no value at this point
  };
  const Panel panels[] = {
      {"output tokens/s", [](const SeriesPoint& p) { return p.tokens_per_s; }},
      {"requests in flight", [](const SeriesPoint& p) { return static_cast<double>(p.in_flight); }},
      {"TTFT p50 (s)", [](const SeriesPoint& p) { return p.ttft_p50_s; }},
  };
  const double w = 300, h = 120, pad_l = 44, pad_b = 18, pad_t = 18;
  std::string out;
  for (const auto& panel : panels) {
    double y_max = 0;
    for (const auto& [name, pts] : runs)
      for (const auto& p : pts) y_max = std::max(y_max, panel.value(p));
    out += fmt::format(
        "<svg class=series role=img width={} height={} viewBox=\"0 0 {} {}\"><title>{}</title>", w,
        h, w, h, xml_escape(panel.title));
    out += fmt::format(
        "<text x=4 y=12 font-size=11>{}</text><text x=4 y={} font-size=10>{:.3g}</text>"
        "<text x=4 y={} font-size=10>0</text><text x={} y={} font-size=10 "
        "text-anchor=end>{:.1f} s</text>",
        xml_escape(panel.title), pad_t + 8, y_max, h - pad_b, w - 2, h - 4, t_max);
    out += fmt::format(
        "<line x1={} y1={} x2={} y2={} stroke=#999 /><line x1={} y1={} x2={} y2={} "
        "stroke=#999 />",
        pad_l, h - pad_b, w - 4, h - pad_b, pad_l, pad_t, pad_l, h - pad_b);
    if (y_max > 0) {
      for (size_t r = 0; r < runs.size(); ++r) {
        std::string pts;
        for (const auto& p : runs[r].second) {
          double v = panel.value(p);
          if (v < 0) continue;
          double x = pad_l + (w - 4 - pad_l) * p.t_s / t_max;
          double y = (h - pad_b) - (h - pad_b - pad_t) * v / y_max;
          pts += fmt::format("{:.1f},{:.1f} ", x, y);
        }
        if (pts.empty()) continue;
        out += fmt::format(
            "<polyline fill=none stroke=\"{}\" stroke-width=1.5 points=\"{}\"><title>{}</title>"
            "</polyline>",
            kColours[r % (sizeof kColours / sizeof kColours[0])], pts, xml_escape(runs[r].first));
      }
    }
    out += "</svg>";
  }
  return out;
}

}  // namespace retort
