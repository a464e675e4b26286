// The agent's operations: the table of operations by id (running, ended, in doubt), the
// serialization of everything done to one managed object (one operation or observation at a
// time), each operation's thread and commit gate, and the settling of operations a restart
// left in doubt. The HTTP side (agent_service.h) decodes, checks epochs and the allowlist,
// and calls this.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "pkg/agent/audit.h"
#include "pkg/agent/epoch_store.h"
#include "pkg/agent/executor.h"
#include "pkg/agent/journal.h"
#include "pkg/agent/protocol.h"
#include "pkg/util/clock.h"

namespace sy::agent {

struct OperationsOptions {
  // Operations running at once on the whole machine (each object has at most one).
  size_t max_running = 4;
  // How long a caller may be held waiting (a submission for its operation to end, an
  // observation for the object, a long poll): the HTTP workers are few.
  std::chrono::milliseconds max_wait{2000};
  // How long each kind of step may take before its effect shows: an operation a restart left
  // in doubt is settled as failed once this passed since the restart, if its effect was not
  // seen meanwhile.
  std::function<std::chrono::milliseconds(model::StepKind)> budget;
  // Ended operations remembered (their ids are answered, never run again).
  size_t keep_ended = 1000;
};

// What an observation saw, for settling operations in doubt.
struct Observed {
  std::optional<model::ServerState> server;
  std::optional<model::NginxState> nginx;
};

// Thread-safe.
class Operations {
 public:
  // Every reference must outlive this object. Reads the journal: its unfinished promote,
  // start, stop, fence and switch-traffic operations are in doubt until their effect is seen
  // or their budget passes; any other unfinished operation is ended at once as failed
  // ("agent restarted mid-operation": the controller re-observes and plans again).
  Operations(Executor& executor, Journal& journal, AuditLog& audit, EpochStore& epochs,
             const util::Clock& clock, OperationsOptions options);
  // Stop().
  ~Operations();
  Operations(const Operations&) = delete;
  Operations& operator=(const Operations&) = delete;

  // Runs `observe` on `object` once nothing else holds it, waiting up to `wait` (bounded by
  // max_wait); then settles the object's operations in doubt with what it saw. `reply` gets
  // running_op (when the wait ran out: code BUSY) and in_doubt_ops.
  void Observe(const std::string& object, std::chrono::milliseconds wait,
               const std::function<absl::StatusOr<Observed>()>& observe, ObserveReply* reply);

  // Submits operation `r` on `object` (the epoch and the allowlist were checked). A known
  // op_id is answered with its state and never run again. Refused with BUSY (nothing run)
  // while another operation runs on the object or one is in doubt there, or when max_running
  // run; else journalled, started on its own thread, and waited for up to r.sync_wait_ms.
  // Returns the HTTP status: 200 ended (whatever the outcome), 202 running or in doubt, or
  // the refusal's.
  int Submit(const OpRequest& r, const std::string& object, const std::string& machine,
             OpReply* reply);

  // The state of `op_id`, waiting up to `wait` (bounded by max_wait) for it to end. 404
  // (UNKNOWN_OP) when the id is not known; else as Submit.
  int Poll(const std::string& op_id, std::chrono::milliseconds wait, OpReply* reply);

  // The ids of operations running, and in doubt.
  std::vector<std::string> Running() const;
  std::vector<std::string> InDoubt() const;

  // From now on every commit gate refuses (the agent is stopping): waits until every running
  // operation has reached its next commit point or ended. Idempotent.
  void Stop();

 private:
  struct Record {
    JournalStart start;
    OpState state = OpState::kRunning;
    Code code = Code::kOk;
    std::string message;
    std::string detail;
    std::optional<std::chrono::steady_clock::time_point> writes_stopped_at;
    std::optional<std::chrono::steady_clock::time_point> writes_resumed_at;
    std::chrono::steady_clock::time_point in_doubt_until{};  // kInDoubt
  };
  struct Object {
    std::string running_op;  // the operation holding it
    bool observing = false;  // an observation holds it
    std::vector<std::string> in_doubt;
  };
  class Gate;

  void Execute(const OpRequest& r, const std::shared_ptr<Record>& rec);
  // Ends an operation in the journal, the audit log and the table; mu_ held.
  void Finish(Record& rec, OpState state, Code code, std::string message);
  // Settles `object`'s operations in doubt: with what `seen` shows, or by their budget.
  void Settle(const std::string& object, const Observed* seen);  // mu_ held
  void Fill(const Record& rec, OpReply* reply) const;
  int StatusOf(const Record& rec) const;
  void Remember(const std::string& op_id);  // mu_ held: bounds the ended operations kept
  void ReapThreads();                       // mu_ held

  Executor& executor_;
  Journal& journal_;
  AuditLog& audit_;
  EpochStore& epochs_;
  const util::Clock& clock_;
  const OperationsOptions options_;

  mutable std::mutex mu_;
  std::condition_variable changed_;
  std::map<std::string, std::shared_ptr<Record>> ops_;  // by op id
  std::deque<std::string> ended_order_;                 // ids of ended ops, oldest first
  std::map<std::string, Object> objects_;
  size_t running_ = 0;
  bool stopping_ = false;
  struct Worker {
    std::thread thread;
    std::shared_ptr<bool> done;  // guarded by mu_
  };
  std::vector<Worker> workers_;
};

}  // namespace sy::agent
