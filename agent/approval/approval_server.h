#pragma once
// The approval socket: a Unix stream socket speaking protocol/cmdgate.proto. Clients list and
// decide parked requests, subscribe to them and to the live decision stream, read status and
// trigger reloads. Every client has a bounded outgoing queue: a slow event subscriber loses
// events (counted), a slow approver is disconnected (it resynchronises with ListPending); the
// event loop never waits for a client. Every message passes the gate (approver_gate.h) once; a
// decision is made by ApprovalDecisions (approval_decisions.h). An approval that needs proof of
// a person holds its connection's decision while a PAM conversation runs over it
// (auth_service.h), and a permanent one while the file it pins is hashed (approval_digest.h);
// neither holds up the loop.

#include <sys/types.h>

#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>

#include "approval/approval_decisions.h"
#include "approval/approver_gate.h"
#include "approval/auth_policy.h"
#include "approval/auth_service.h"
#include "approval/off_loop.h"
#include "approval/peer.h"
#include "cmdgate.pb.h"
#include "common/fd.h"
#include "context/hash_service.h"
#include "kernel/clock.h"
#include "loop/event_loop.h"
#include "pipeline/exec_pipeline.h"
#include "policy/policy_manager.h"
#include "protocol/framing.h"

namespace cmdgate {

struct ApprovalOptions {
  std::string socket_path = protocol::kDefaultSocketPath;
  std::string approver_group = kDefaultApproverGroup;
  mode_t socket_mode = 0660;               // owner root, group approver_group
  size_t max_clients = 64;
  size_t max_queue_bytes = 4u << 20;       // per client
  std::string local_rules_file;            // for "allow permanently"; empty: refused
  uint32_t max_grant_minutes = 24 * 60;
  AuthenticateWhen authenticate = AuthenticateWhen::kSameUid;
  // A connection that authenticated stays so this long: a prompt session answers a run of
  // requests with one password, and nothing outside that connection can use it.
  std::chrono::minutes authenticated_for{5};
  AuthSettings auth;
  std::shared_ptr<AuthBackend> auth_backend;  // null: PAM (pam_backend.h)
  HashSettings digest;                        // the file a permanent approval pins
  size_t max_digest_threads = 2;
};

struct ApprovalStats {
  uint64_t connections = 0;
  uint64_t protocol_errors = 0;
  uint64_t refused_decisions = 0;
  uint64_t events_dropped = 0;
  uint64_t slow_disconnects = 0;
};

struct ApprovalDeps {
  EventLoop& loop;
  const ProcFs& proc;
  const KernelPort& kernel;
  const Clock& clock;
  ExecPipeline& pipeline;
  PolicyManager& policy;
  std::function<protocol::Status()> status;
};

class ApprovalServer final : public PipelineObserver {
 public:
  [[nodiscard]] static Result<std::unique_ptr<ApprovalServer>> start(ApprovalOptions options,
                                                                     ApprovalDeps deps);
  ~ApprovalServer() override;
  ApprovalServer(const ApprovalServer&) = delete;
  ApprovalServer& operator=(const ApprovalServer&) = delete;

  void on_parked(const PendingRequest& r) override;
  void on_closed(const PendingRequest& r, Outcome outcome, DecidedBy by,
                 const ApproverInfo* approver) override;
  void on_decision(const DecisionRecord& record) override;
  [[nodiscard]] bool approvers_listening() const override;

  [[nodiscard]] size_t clients() const { return sessions_.size(); }
  [[nodiscard]] const ApprovalStats& stats() const { return stats_; }
  // Empty when nobody ever has to authenticate (authenticate = "never").
  [[nodiscard]] AuthCounters auth_counters() const {
    return auth_ ? auth_->counters() : AuthCounters{};
  }

 private:
  // A decision waiting for its approver to authenticate, or for the file a permanent approval
  // pins to be hashed: at most one per connection.
  struct Held {
    protocol::ClientMessage message;  // the Decide, handled again once the wait is over
    uint64_t auth_id = 0;             // the authentication it waits for; 0 while hashing
    std::string user;                 // who is being authenticated
    uint64_t digest_token = 0;        // the hash it waits for
    SteadyTime deadline;              // of the hash
  };

  struct Session {
    uint64_t serial = 0;  // tells a reused fd number apart
    Fd fd;
    Peer peer;
    bool approver = false;
    bool greeted = false;
    bool approvals = false;
    bool events = false;
    bool closing = false;  // flush what is queued, then close
    protocol::FrameDecoder decoder;
    std::deque<std::string> out;
    size_t out_bytes = 0;
    size_t out_offset = 0;  // into out.front()
    uint64_t dropped = 0;
    bool authenticates = false;  // Hello.authenticates: it answers AuthPrompt
    std::optional<SteadyTime> authenticated_until;
    std::optional<Held> held;
    // The digest hashed for a permanent approval of request `first`.
    std::optional<std::pair<uint64_t, rules::Sha256>> digest;
  };

  ApprovalServer(ApprovalOptions options, ApprovalDeps deps);
  [[nodiscard]] Status listen();
  void accept_clients();
  void on_events(int fd, uint32_t events);
  void read_from(Session& s);
  void handle(Session& s, const protocol::ClientMessage& m);
  void handle_decide(Session& s, const protocol::ClientMessage& m, const Admission& admitted);
  // approval_waits.cpp: authentication and hashing, each handling the Decide again when done.
  void authenticate(Session& s, const protocol::ClientMessage& m, const Peer& approver);
  void handle_auth_answer(Session& s, uint64_t rid, const protocol::AuthAnswer& a);
  void on_auth_prompt(uint64_t id, const std::vector<AuthItem>& items, bool answer);
  void on_auth_done(uint64_t id, const AuthVerdict& verdict);
  void hash_for_permanent(Session& s, const protocol::ClientMessage& m, DigestSource file);
  void on_digest(int fd, uint64_t serial, uint64_t token, const Result<rules::Sha256>& digest);
  [[nodiscard]] Session* holding(const std::function<bool(const Held&)>& pred);
  void arm_timer();
  void on_timer();
  // approval_outgoing.cpp: what is sent to clients.
  void reply(Session& s, uint64_t request_id, protocol::ServerMessage m);
  void fail(Session& s, uint64_t request_id, const std::string& message, bool fatal);
  // Queues a frame; droppable frames are lost (and counted) when the client is too slow, others
  // disconnect it.
  void enqueue(Session& s, const protocol::ServerMessage& m, bool droppable);
  void flush(Session& s);
  void drop(int fd, std::string_view why);
  void broadcast(const protocol::ServerMessage& m, bool to_approvals, bool droppable);

  ApprovalOptions options_;
  ApprovalDeps d_;
  std::optional<uint32_t> approver_gid_;
  ApproverGate gate_;
  ApprovalDecisions decisions_;
  Fd listener_;
  std::map<int, std::unique_ptr<Session>> sessions_;
  uint64_t serial_ = 0;
  ApprovalStats stats_;
  std::unique_ptr<AuthService> auth_;
  std::unique_ptr<OffLoop> digests_;
  uint64_t next_digest_token_ = 1;
  EventLoop::TimerId timer_ = 0;
  SteadyTime timer_at_;
};

}  // namespace cmdgate
