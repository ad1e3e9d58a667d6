#include "webhook/server/connection_table.h"

#include <algorithm>

namespace provgate {

ConnectionTable::Verdict ConnectionTable::Add(const std::string& peer, std::weak_ptr<TrackedConnection> connection,
                                              Ticket* ticket) {
  std::shared_ptr<TrackedConnection> victim;
  {
    MutexLock l(&mu_);
    auto it = peers_.try_emplace(peer).first;
    Peer& p = it->second;
    auto refuse = [&](Verdict v) {
      if (p.connections.empty()) peers_.erase(it);
      return v;
    };
    if (p.live() >= max_per_peer_) return refuse(Verdict::kPeerLimit);
    if (total_ - evicting_ >= max_connections_) {
      // Evict only from a peer that still holds at least as many as this
      // one will: a newcomer never pushes out a smaller peer.
      victim = Victim(p.live() + 1);
      if (!victim) return refuse(Verdict::kConnectionLimit);
    }
    p.connections.push_back(Entry{std::move(connection)});
    ticket->peer = peer;
    ticket->at = std::prev(p.connections.end());
    ++total_;
  }
  if (victim) victim->Evict();
  return Verdict::kAdmitted;
}

std::shared_ptr<TrackedConnection> ConnectionTable::Victim(size_t than) {
  std::vector<Peer*> larger;
  for (auto& [address, p] : peers_) {
    if (p.live() > than) larger.push_back(&p);
  }
  std::sort(larger.begin(), larger.end(), [](const Peer* a, const Peer* b) { return a->live() > b->live(); });
  for (Peer* p : larger) {
    for (Entry& e : p->connections) {
      if (e.evicting) continue;
      auto c = e.connection.lock();
      if (!c || !c->Evictable()) continue;
      e.evicting = true;
      ++p->evicting;
      ++evicting_;
      return c;
    }
  }
  return nullptr;
}

void ConnectionTable::Remove(const Ticket& ticket) {
  MutexLock l(&mu_);
  auto it = peers_.find(ticket.peer);
  if (it == peers_.end()) return;
  Peer& p = it->second;
  if (ticket.at->evicting) {
    --p.evicting;
    --evicting_;
  }
  p.connections.erase(ticket.at);
  --total_;
  if (p.connections.empty()) peers_.erase(it);
}

std::vector<std::shared_ptr<TrackedConnection>> ConnectionTable::All() const {
  std::vector<std::shared_ptr<TrackedConnection>> out;
  MutexLock l(&mu_);
  out.reserve(total_);
  for (const auto& [address, p] : peers_) {
    for (const Entry& e : p.connections) {
      if (auto c = e.connection.lock()) out.push_back(std::move(c));
    }
  }
  return out;
}

size_t ConnectionTable::size() const {
  MutexLock l(&mu_);
  return total_;
}

}  // namespace provgate
