// The JSON value type used everywhere. Insertion-ordered objects, because dataset rows,
// results files and request bodies must keep the key order they were built or read with
// (lm-eval hashes `json.dumps(doc)` in column order).
#pragma once

#include <nlohmann/json.hpp>

namespace retort {

using Json = nlohmann::ordered_json;

// A Doc is one dataset row: a JSON object whose keys are the dataset's columns, in order.
using Doc = Json;

}  // namespace retort
