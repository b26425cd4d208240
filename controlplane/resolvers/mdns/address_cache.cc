#include "controlplane/resolvers/mdns/address_cache.h"

#include <algorithm>

namespace ringside::mdns {

void AddressCache::add(const std::string& app_id, const std::string& address, bool ipv6, Clock::time_point now) {
  std::vector<Entry>& list = ipv6 ? apps_[app_id].ipv6 : apps_[app_id].ipv4;
  for (Entry& e : list)
    if (e.address == address) {
      e.expires_at = now + kTtl;
      return;
    }
  list.push_back(Entry{address, now + kTtl});
}

void AddressCache::remove(const std::string& app_id, const std::string& address) {
  auto it = apps_.find(app_id);
  if (it == apps_.end()) return;
  for (std::vector<Entry>* list : {&it->second.ipv4, &it->second.ipv6})
    list->erase(std::remove_if(list->begin(), list->end(), [&](const Entry& e) { return e.address == address; }),
                list->end());
}

std::vector<std::string> AddressCache::expire(Clock::time_point now) {
  std::vector<std::string> changed;
  for (auto& [app, lists] : apps_) {
    bool any = false;
    for (std::vector<Entry>* list : {&lists.ipv4, &lists.ipv6}) {
      const size_t before = list->size();
      list->erase(std::remove_if(list->begin(), list->end(), [&](const Entry& e) { return e.expires_at <= now; }),
                  list->end());
      any = any || list->size() != before;
    }
    if (any) changed.push_back(app);
  }
  return changed;
}

std::vector<std::string> AddressCache::current(const std::string& app_id) const {
  std::vector<std::string> out;
  auto it = apps_.find(app_id);
  if (it == apps_.end()) return out;
  const std::vector<Entry>& list = it->second.ipv4.empty() ? it->second.ipv6 : it->second.ipv4;
  for (const Entry& e : list) out.push_back(e.address);
  return out;
}

std::vector<std::string> AddressCache::app_ids() const {
  std::vector<std::string> out;
  for (const auto& [app, lists] : apps_) out.push_back(app);
  return out;
}

}  // namespace ringside::mdns
