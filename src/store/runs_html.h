// One self-contained HTML page for one or more stored runs (`retort report RUN...`): the
// score table with Wilson 95% intervals, the paired differences of each run against the
// first (store/compare.h), a per-task bar chart with error bars, the run statistics
// (latency percentiles, TTFT, throughput), and a sample browser with search and filters
// (correct / incorrect / truncated / failed).
//
// Promises: no external resource (a Content-Security-Policy forbids any fetch); model
// output and every other stored text reach the page only as JSON data read by the page's
// script into textContent, or HTML-escaped, so no response can run script or load images.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "store/compare.h"
#include "store/store.h"

namespace retort::store {

// Wilson score interval for a proportion p observed over n trials at z = 1.96.
std::pair<double, double> wilson_interval(double p, int64_t n, double z = 1.959963984540054);

// runs[0] is the reference; vs_first[i-1] compares runs[0] (A) with runs[i] (B).
// max_samples: per run and task, the samples embedded for the browser.
std::string render_runs_html(const std::vector<StoredRun>& runs,
                             const std::vector<std::vector<TaskComparison>>& vs_first,
                             size_t max_samples = 2000);

}  // namespace retort::store
