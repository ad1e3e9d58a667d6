// The open connections of the admission server, counted per peer address,
// and the two limits on them (docs/server.md#connections): a budget per peer,
// beyond which a peer's new connections are refused, and a global cap, at
// which a newcomer evicts an idle connection of the peer holding the most,
// so that no number of greedy peers can lock a modest one (the API server)
// out. Thread-safe.
#pragma once

#include <list>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "base/mutex.h"

namespace provgate {

// A connection as the table sees it.
class TrackedConnection {
 public:
  virtual ~TrackedConnection() = default;
  // True while closing it loses no answer: its TLS handshake, waiting for
  // or reading a request. False while a request is being answered.
  // Callable from any thread.
  virtual bool Evictable() const = 0;
  // Closes it soon, if it is still evictable then. Callable from any thread.
  virtual void Evict() = 0;
  // For the stop: closes it soon if it is between requests, else after the
  // answer to the request it is reading or answering.
  virtual void Drain() = 0;
  // Closes it soon, whatever it is doing.
  virtual void Close() = 0;
};

class ConnectionTable {
 public:
  enum class Verdict {
    kAdmitted,
    kPeerLimit,        // the peer already holds max_per_peer connections
    kConnectionLimit,  // at the cap, and no peer holds more than this one to evict from
  };
  struct Entry {
    std::weak_ptr<TrackedConnection> connection;
    bool evicting = false;  // asked to close, not yet removed
  };
  // Where a connection sits in the table; given back to Remove().
  struct Ticket {
    std::string peer;
    std::list<Entry>::iterator at;
  };

  ConnectionTable(size_t max_connections, size_t max_per_peer)
      : max_connections_(max_connections), max_per_peer_(max_per_peer) {}

  // Counts `connection` from `peer` (an address, no port) when the limits
  // allow it, evicting one idle connection of the largest peer first when
  // the table is full. `*ticket` is set when admitted.
  Verdict Add(const std::string& peer, std::weak_ptr<TrackedConnection> connection, Ticket* ticket) EXCLUDES(mu_);
  void Remove(const Ticket& ticket) EXCLUDES(mu_);

  // Every connection still open (for the drain at shutdown).
  std::vector<std::shared_ptr<TrackedConnection>> All() const EXCLUDES(mu_);
  size_t size() const EXCLUDES(mu_);
  size_t max_connections() const { return max_connections_; }
  size_t max_per_peer() const { return max_per_peer_; }

 private:
  struct Peer {
    std::list<Entry> connections;  // oldest first
    size_t evicting = 0;           // of them, asked to close
    size_t live() const { return connections.size() - evicting; }
  };
  // An evictable connection of a peer holding more than `than` (live)
  // connections, the largest such peer first; null when there is none.
  std::shared_ptr<TrackedConnection> Victim(size_t than) REQUIRES(mu_);

  const size_t max_connections_, max_per_peer_;
  mutable Mutex mu_;
  std::unordered_map<std::string, Peer> peers_;  // guarded by mu_
  size_t total_ = 0;                             // guarded by mu_: connections in peers_
  size_t evicting_ = 0;                          // guarded by mu_: of them, asked to close
};

}  // namespace provgate
