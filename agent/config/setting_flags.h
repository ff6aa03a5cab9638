#pragma once
// cmdgated's flags for settings. The config file is read once the command line is (--config names
// it) and the flags win over it, so each flag keeps its change until then. A flag's text goes
// through the parser the config file reads the same setting with (setting_values.h), so that
// both take the same values and refuse the same ones with the same words.

#include <functional>
#include <string>
#include <vector>

#include "daemon_config.h"

namespace CLI {
class App;
}

namespace cmdgate {

class SettingFlags {
 public:
  // Declares on `app` a flag for every setting that has one; `app` calls back into this object
  // while it parses, so this must outlive the parse.
  explicit SettingFlags(CLI::App& app);
  SettingFlags(const SettingFlags&) = delete;
  SettingFlags& operator=(const SettingFlags&) = delete;

  // The settings of the flags given, over `c`.
  void apply(DaemonConfig& c) const;

 private:
  template <typename Parse, typename Setting>
  void add(const std::string& flag, const std::string& help, Parse parse, Setting setting);
  // A repeatable flag: its values together replace the setting's list.
  template <typename Parse, typename Setting>
  void add_list(const std::string& flag, const std::string& help, Parse parse, Setting setting);
  template <typename Setting, typename Value>
  void keep(Setting setting, Value value);

  void add_daemon_flags();
  void add_kernel_flags();
  void add_approval_flags();
  void add_fleet_flags();

  CLI::App& app_;
  std::vector<std::function<void(DaemonConfig&)>> changes_;
};

}  // namespace cmdgate
