// Internal: what each YAML file under a directory defines (a task with its tags, a group
// with its members, nothing, or a parse error), read from an on-disk index where a file
// has not changed since it was last parsed.
//
// The on-disk index is one file per indexed directory, a line per YAML file, keyed by the
// file's path, size and mtime and by those of every file its `include:` reached. A changed
// file is parsed again; an unchanged one is not opened. The index is rewritten (temp file
// + rename, so concurrent runs each see a whole file) only when something changed. An
// unreadable or foreign index file is ignored and rebuilt, never an error.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

namespace retort::tasks_internal {

struct FileSummary {
  enum class Kind { kNone, kTask, kGroup, kBroken };
  std::string file;  // absolute, lexically normal
  Kind kind = Kind::kNone;
  std::string name;                // task or group name
  std::vector<std::string> names;  // task: its tags (from `tag` and `group`); group: members
  // kBroken: the parse error's parts (retort::Error's what, where, hint), to rethrow it.
  std::string error_what, error_where, error_hint;
};

// Parses one file (with its includes) into a summary; files_read gets what it read.
FileSummary summarize_file(const std::string& file, std::vector<std::string>* files_read);

struct IndexStats {
  size_t files = 0;   // YAML files found
  size_t parsed = 0;  // of which parsed now (new or changed, or no index)
  size_t read = 0;    // files read to parse them (with the files their includes reached)
};

// Summaries of every *.yaml / *.yml file under dir (recursively, following symlinked
// directories once), in path order (component by component, as std::filesystem::path
// compares). index_file "" = no on-disk index (parse everything).
std::vector<FileSummary> index_directory(const std::string& dir, const std::string& index_file,
                                         IndexStats* stats);

// Where the on-disk index of dir lives: $XDG_CACHE_HOME/retort/task_index/<hash>.tsv
// (else ~/.cache/retort/...). "" when RETORT_TASK_INDEX=off.
std::string default_index_file(const std::string& dir);

}  // namespace retort::tasks_internal
