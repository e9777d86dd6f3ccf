#include <stdexcept>

#include "scoring/scoring.h"

namespace retort {

namespace {
[[noreturn]] void todo() {
  throw std::logic_error("scoring: not implemented yet");
}
}  // namespace

FilterPipeline default_filter() {
  FilterPipeline p;
  FilterStep step;
  step.function = "take_first";
  p.steps.push_back(step);
  return p;
}
FilterPipeline parse_filter(const Json&, const std::string&) {
  todo();
}
std::vector<FilterPipeline> parse_filter_list(const Json&, const std::string&) {
  todo();
}
Json apply_filter(const FilterPipeline&, const Json&, const Doc&, const std::vector<std::string>*) {
  todo();
}
const std::vector<std::string>& supported_filters() {
  todo();
}
OutputType parse_output_type(const std::string&, const std::string&) {
  todo();
}
std::vector<MetricSpec> default_metrics(OutputType) {
  todo();
}
MetricSpec parse_metric(const Json&, const std::string&) {
  todo();
}
std::vector<MetricSpec> parse_metric_list(const Json&, OutputType, const std::string&) {
  todo();
}
std::string default_aggregation(const std::string&, const std::string&) {
  todo();
}
bool default_higher_is_better(const std::string&, const std::string&) {
  todo();
}
const std::vector<std::string>& supported_metrics() {
  todo();
}
const std::vector<std::string>& supported_aggregations() {
  todo();
}
Json score_multiple_choice(const std::vector<MetricSpec>&, const MultipleChoiceInput&) {
  todo();
}
Json score_loglikelihood(const std::vector<MetricSpec>&, double, bool) {
  todo();
}
Json score_loglikelihood_rolling(const std::vector<MetricSpec>&, double, const std::string&) {
  todo();
}
Json score_generate(const std::vector<MetricSpec>&, const Json&, const Json&, bool,
                    const std::vector<std::string>*) {
  todo();
}
bool exact_match(const std::string&, const std::string&, const Json&) {
  todo();
}
MetricValue aggregate_metric(const MetricSpec&, const std::string&, const std::vector<Json>&,
                             int64_t) {
  todo();
}
std::vector<MetricValue> aggregate_task(const std::vector<MetricSpec>&, const std::vector<Sample>&,
                                        int64_t) {
  todo();
}
std::vector<GroupMetricSpec> parse_aggregate_metric_list(const Json&, const std::string&) {
  todo();
}
MetricValue aggregate_group_metric(const std::string&, const std::string&,
                                   const std::vector<GroupMember>&, bool, bool) {
  todo();
}
std::vector<MetricValue> aggregate_group(const std::vector<GroupMetricSpec>&,
                                         const std::vector<const TaskResult*>&) {
  todo();
}

}  // namespace retort
