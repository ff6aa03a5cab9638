#pragma once
// cmdgate's state in bpffs, which outlives every daemon so that the last policy stays in force
// while none runs (crash, restart, upgrade):
//
//   <root>/abi<N>/<map>            the maps every object shares (.bss as "bss"), ABI version N
//   <root>/abi<N>/links/<program>  one link per attached program
//
// A successor of the same ABI adopts the maps and replaces the links; one of another ABI (an
// upgrade that changed the layout) starts fresh beside them and then retires the old directory
// (sweep_foreign). Nothing but `cmdgated --uninstall` (uninstall()) removes the whole tree.

#include <sys/types.h>

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/fd.h"
#include "common/result.h"
#include "rules/model.h"

struct bpf_link;

namespace cmdgate::probe {

class PinDir {
 public:
  explicit PinDir(std::string root) : root_(std::move(root)) {}

  [[nodiscard]] bool enabled() const { return !root_.empty(); }
  [[nodiscard]] const std::string& root() const { return root_; }
  [[nodiscard]] std::string dir() const;  // this ABI's directory
  [[nodiscard]] std::string map(std::string_view name) const;
  [[nodiscard]] std::string link(std::string_view program) const;

  // Creates root, this ABI's directory and its links directory.
  [[nodiscard]] Status create() const;

  // Pins link as `program`, replacing (and so detaching) a predecessor's link of that name.
  [[nodiscard]] Status replace_link(bpf_link* link, std::string_view program) const;
  // Unpins links of programs not in `keep` (a predecessor's that this daemon did not load).
  void remove_other_links(const std::vector<std::string>& keep) const;

  // Directories of other ABI versions and the parked map older versions pinned at the root.
  [[nodiscard]] std::vector<std::string> foreign_state() const;

 private:
  std::string root_;
};

// Retires a foreign state directory (or legacy map) after this daemon's programs enforce: its
// links are unpinned first (its programs stop), then the tgids its parked map still holds are
// returned for this daemon to take over, then its pins are removed.
[[nodiscard]] std::vector<uint32_t> sweep_foreign(const std::string& path);

// `cmdgated --uninstall`: stops enforcement (unpins every link), settles every parked process
// (resumed when on_stop is kAllow, else killed) and removes the tree. Refuses while a daemon
// owns the state.
[[nodiscard]] Status uninstall(const PinDir& pins, rules::Action on_stop);

}  // namespace cmdgate::probe
