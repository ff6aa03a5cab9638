#pragma once
// The rule sets the benchmarks load into a real policy store, as TOML.

#include <fmt/format.h>

#include <random>
#include <string>

namespace cmdgate::bench {

// A fleet-like mix: mostly exact paths and hashes (allowlists), then globs, argv patterns and
// ancestry rules.
inline std::string rules_text(int n) {
  std::mt19937 rng(7);
  std::string out = "default_action = \"allow\"\n";
  for (int i = 0; i < n; ++i) {
    out += fmt::format("[[rule]]\nid = \"r{}\"\naction = \"{}\"\n", i,
                       i % 7 == 0 ? "deny" : i % 11 == 0 ? "ask" : "audit");
    switch (i % 10) {
      case 0:
      case 1:
      case 2:
      case 3:
        out += fmt::format("path = \"/opt/fleet/bin/tool-{}\"\n", i);
        break;
      case 4:
      case 5: {
        std::string hex;
        for (int b = 0; b < 32; ++b) {
          hex += fmt::format("{:02x}", rng() & 0xff);
        }
        out += fmt::format("sha256 = \"{}\"\n", hex);
        break;
      }
      case 6:
        out += fmt::format("path = \"/srv/app-{}/**\"\n", i);
        break;
      case 7:
        out += fmt::format("path = \"/usr/bin/tool{}\"\nargs = \"^--danger-{}(=.*)?$\"\n", i, i);
        break;
      case 8:
        out += fmt::format("cmdline = \"deploy-{} .*--force\"\n", i);
        break;
      case 9:
        out += fmt::format("ancestor = \"agent-{}\"\npath = \"/usr/bin/x{}\"\n", i, i);
        break;
    }
  }
  return out;
}

}  // namespace cmdgate::bench
