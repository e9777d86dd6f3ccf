// Temporary stubs so the public header links; replaced file by file.
#include "report/report.h"
#include "util/error.h"

namespace retort {

namespace {
[[noreturn]] void todo() {
  throw Error("report: not implemented yet");
}
}  // namespace

OutputPaths write_outputs(const RunResult&, const std::string&, bool) {
  todo();
}
OutputPaths write_outputs(const RunResult&, const std::string&, const OutputOptions&) {
  todo();
}
std::string date_id(std::chrono::system_clock::time_point) {
  todo();
}
std::string sanitize_model_name(std::string_view) {
  todo();
}
OutputPaths plan_output_paths(const std::string&, const std::string&, const std::string&,
                              const std::vector<std::string>&, bool) {
  todo();
}
Json results_json(const RunResult&) {
  todo();
}
std::string results_json_text(const RunResult&) {
  todo();
}
Json sample_record(const Sample&, size_t) {
  todo();
}
std::vector<std::string> sample_lines(const TaskResult&) {
  todo();
}
std::string task_hash(const TaskResult&) {
  todo();
}
std::string doc_hash(const Json&) {
  todo();
}
std::string prompt_hash(const Sample&) {
  todo();
}
std::string target_hash(const Json&) {
  todo();
}
Json strip_secrets(const Json&) {
  todo();
}
bool is_secret_key(std::string_view) {
  todo();
}
std::string format_score_table(const Json&, const std::string&) {
  todo();
}
std::string format_score_table(const RunResult&) {
  todo();
}
std::string format_stats_table(const RunStats&, const std::string&) {
  todo();
}
Json stats_json(const RunStats&) {
  todo();
}
RunStats stats_from_json(const Json&) {
  todo();
}
std::string group_thousands(int64_t) {
  todo();
}
std::string format_hms(double) {
  todo();
}
ProgressDisplay::ProgressDisplay(ProgressOptions options) : options_(options) {}
ProgressDisplay::~ProgressDisplay() = default;
void ProgressDisplay::update(const RunStats&, const std::vector<TaskProgress>&) {}
void ProgressDisplay::finish(const RunStats&, const std::vector<TaskProgress>&) {}
std::string ProgressDisplay::requests_line(const RunStats&) {
  todo();
}
std::string ProgressDisplay::overall_line(const RunStats&, int) {
  todo();
}
std::string ProgressDisplay::task_line(const TaskProgress&, size_t, int) {
  todo();
}
std::string ProgressDisplay::plain_line(const RunStats&) {
  todo();
}
std::vector<std::string> ProgressDisplay::frame(const RunStats&,
                                                const std::vector<TaskProgress>&) const {
  todo();
}
double ProgressDisplay::eta_seconds(const RunStats&) {
  todo();
}
void ProgressDisplay::draw(const RunStats&, const std::vector<TaskProgress>&) {}
std::string render_html(const Json&, const std::map<std::string, std::vector<Json>>&, size_t) {
  todo();
}
std::string render_html(const RunResult&, size_t) {
  todo();
}
std::string html_escape(std::string_view) {
  todo();
}

}  // namespace retort
