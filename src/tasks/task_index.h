// Internal: what each YAML file under a directory defines (a task with its tags, a group
// with its members, nothing, or a parse error), read from an on-disk index where a file
// has not changed since it was last parsed.
//
// The on-disk index is one file per indexed directory, a line per YAML file, keyed by the
// file's path, size and mtime and by those of every file its `include:` reached. A changed
// file is parsed again; an unchanged one is not opened. The index is rewritten (temp file
// + rename, so concurrent runs each see a whole file) only when something changed. An
// unreadable or foreign index file is ignored and rebuilt, never an error.
//
// Looking at every file costs one stat each (14,000 for lm-eval's tasks/), more than a
// whole small run. So the index also records every directory's mtime and the table of
// names the files define: when no directory changed (no file added, removed or renamed),
// TrustedIndex answers name lookups from the index alone, and a file is checked (its stamp
// and its includes') only when it is used. A used file that changed, or a name found
// nowhere, sends the caller back to the full look (index_directory), which sees everything.
// What this trades away: a name or tag added by an in-place edit of a file that is not
// otherwise used is seen only when a lookup fails, a directory changes, or the tree is
// listed (`retort tasks list`). Directories changed within the last seconds before the index
// was written are not trusted (mtimes are coarse).
#pragma once

#include <cstddef>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "util/error.h"

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

enum class NameKind { kTask, kGroup, kTag };

struct NameEntry {
  std::string name;  // as written
  NameKind kind = NameKind::kTask;
  std::string file;
  std::vector<std::string> members;  // tag: task names; group: children names
};

// Names defined by files added in order: a later task or group wins a clash; a tag collects
// the tasks that carry it (in order, once each), and a task or group of its name wins over it.
struct NameTable {
  std::map<std::string, NameEntry> by_name;  // lower-case name -> entry
  // Files that did not parse, with their error: reported when named by path, and as a
  // warning when a lookup fails (the missing name may live in the broken file).
  std::map<std::string, Error> broken;

  void add(const FileSummary& s);
  // Adds the entry a later table holds for a lower-case name, with the rules of add().
  void merge(const std::string& lower, const NameEntry& e);
  const NameEntry* find(const std::string& name) const;  // any case
};

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

// A directory's on-disk index, opened for lookups without walking the tree.
class TrustedIndex {
 public:
  // Null when there is no usable index for dir, or a directory under it changed since the
  // index was written (or was too new to trust then).
  static std::unique_ptr<TrustedIndex> open(const std::string& dir, const std::string& index_file);
  ~TrustedIndex();
  // The entry the directory's files define for a lower-case name.
  std::optional<NameEntry> find(const std::string& lower) const;
  // False when file is one of this directory's YAML files and it, or a file its includes
  // reached, is not as it was when the index was written.
  bool fresh(const std::string& file) const;

 private:
  TrustedIndex();
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// Where the on-disk index of dir lives: $XDG_CACHE_HOME/retort/task_index/<hash>.tsv
// (else ~/.cache/retort/...). "" when RETORT_TASK_INDEX=off.
std::string default_index_file(const std::string& dir);

}  // namespace retort::tasks_internal
