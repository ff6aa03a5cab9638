#include "cli/terminal_auth.h"

#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <sys/prctl.h>
#include <termios.h>
#include <unistd.h>

#include <array>
#include <csignal>
#include <memory>

#include "common/display_text.h"
#include "common/errno_error.h"
#include "common/fd.h"
#include "common/wait_readable.h"
#include "common/write_all.h"

namespace cmdgate::cli {
namespace {

// A secret longer than PAM takes is not read to the end.
constexpr size_t kMaxAnswer = 512;
// When the daemon does not say how long it waits for an answer.
constexpr std::chrono::seconds kDefaultAnswerTime{60};

// Where a signal that ends cmdgate while echo is off puts the terminal back.
volatile sig_atomic_t g_restore_fd = -1;
termios g_saved{};
constexpr std::array<int, 4> kEndingSignals = {SIGINT, SIGTERM, SIGHUP, SIGQUIT};

void restore_and_reraise(int sig) {
  if (g_restore_fd >= 0) {
    ::tcsetattr(g_restore_fd, TCSANOW, &g_saved);
  }
  ::signal(sig, SIG_DFL);
  ::raise(sig);
}

// Echo off for as long as it lives, and back on whatever ends it, a signal included. Stopping
// (^Z) is held off meanwhile: a stopped cmdgate would leave the shell without echo.
class EchoOff {
 public:
  explicit EchoOff(int fd) : fd_(fd) {
    if (::tcgetattr(fd, &g_saved) != 0) {
      return;
    }
    sigset_t stop;
    sigemptyset(&stop);
    for (int s : {SIGTSTP, SIGTTIN, SIGTTOU}) {
      sigaddset(&stop, s);
    }
    ::sigprocmask(SIG_BLOCK, &stop, &old_mask_);
    struct sigaction sa {};
    sa.sa_handler = restore_and_reraise;
    for (size_t i = 0; i < kEndingSignals.size(); ++i) {
      ::sigaction(kEndingSignals[i], &sa, &old_actions_[i]);
    }
    g_restore_fd = fd;
    termios quiet = g_saved;
    quiet.c_lflag &= ~static_cast<tcflag_t>(ECHO | ECHONL);
    on_ = ::tcsetattr(fd, TCSAFLUSH, &quiet) == 0;
  }
  ~EchoOff() {
    if (g_restore_fd < 0) {
      return;
    }
    ::tcsetattr(fd_, TCSADRAIN, &g_saved);  // what is typed next is kept: the prompt reads it
    g_restore_fd = -1;
    for (size_t i = 0; i < kEndingSignals.size(); ++i) {
      ::sigaction(kEndingSignals[i], &old_actions_[i], nullptr);
    }
    ::sigprocmask(SIG_SETMASK, &old_mask_, nullptr);
  }
  EchoOff(const EchoOff&) = delete;
  EchoOff& operator=(const EchoOff&) = delete;
  [[nodiscard]] bool on() const { return on_; }

 private:
  int fd_;
  bool on_ = false;
  sigset_t old_mask_{};
  std::array<struct sigaction, kEndingSignals.size()> old_actions_{};
};

class Terminal {
 public:
  [[nodiscard]] static Result<std::unique_ptr<Terminal>> open() {
    Fd fd(::open("/dev/tty", O_RDWR | O_NOCTTY | O_CLOEXEC));
    if (!fd) {
      return Error{
          "this approval needs you to authenticate, and there is no terminal to ask on: run "
          "cmdgate from a terminal (it reads the password from the terminal, never from "
          "standard input)"};
    }
    return std::unique_ptr<Terminal>(new Terminal(std::move(fd)));
  }

  // A terminal that cannot be written to shows nothing; the answer read next says the rest.
  void show(const std::string& text) const { (void)write_all(fd_.get(), text); }

  // Shows `prompt` and reads one line, without its newline. A secret's echo goes off before the
  // prompt shows, so that nothing typed in answer to it is ever echoed.
  [[nodiscard]] Result<std::string> ask(const std::string& prompt, bool secret,
                                        std::chrono::milliseconds timeout) {
    std::optional<EchoOff> quiet;
    if (secret) {
      quiet.emplace(fd_.get());
      if (!quiet->on()) {
        return Error{"cannot turn off echo on the terminal: the password would show"};
      }
    }
    show(prompt);
    std::string line;
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    for (;;) {
      if (wait_readable(fd_.get(), deadline) <= 0) {
        ::explicit_bzero(line.data(), line.size());
        return Error{"no answer in time"};
      }
      char c = 0;
      const ssize_t n = ::read(fd_.get(), &c, 1);
      if (n < 0 && errno == EINTR) {
        continue;
      }
      if (n <= 0 || c == '\n' || c == '\r') {
        break;
      }
      if (line.size() < kMaxAnswer) {
        line.push_back(c);
      }
    }
    if (secret) {
      show("\n");  // the newline echo did not print
    }
    return line;
  }

 private:
  explicit Terminal(Fd fd) : fd_(std::move(fd)) {}
  Fd fd_;
};

}  // namespace

client::Client::AuthAnswerer terminal_answerer(std::string what) {
  auto tty = std::make_shared<std::unique_ptr<Terminal>>();
  return [tty, what = std::move(what)](
             const protocol::AuthPrompt& prompt) -> Result<protocol::AuthAnswer> {
    if (!*tty) {
      auto opened = Terminal::open();
      if (!opened) {
        return opened.error();
      }
      *tty = std::move(*opened);
      (*tty)->show(fmt::format("{} needs the password of {}\n", what, display_text(prompt.user())));
    }
    Terminal& t = **tty;
    protocol::AuthAnswer answer;
    for (const auto& m : prompt.messages()) {
      const bool asks = m.style() == protocol::AUTH_SECRET || m.style() == protocol::AUTH_VISIBLE;
      // PAM's own text, escaped like everything else that reaches the terminal.
      if (!asks) {
        t.show(display_text(m.text()) + "\n");
        answer.add_responses("");
        continue;
      }
      auto line = t.ask(display_text(m.text()), m.style() == protocol::AUTH_SECRET,
                        prompt.timeout_ms() > 0 ? std::chrono::milliseconds(prompt.timeout_ms())
                                                : kDefaultAnswerTime);
      if (!line) {
        return line.error();
      }
      answer.add_responses(*line);
      ::explicit_bzero(line->data(), line->size());
    }
    return answer;
  };
}

void refuse_tracing() {
  ::prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
}

}  // namespace cmdgate::cli
