#include "franceconnect/flow_stores.hpp"

#include <openssl/rand.h>

#include <array>
#include <map>
#include <mutex>
#include <stdexcept>

namespace relais::franceconnect {

namespace {

std::mutex registry_mutex;
/// Stores by slug. Module statics outlive reloads (the module stays mapped).
std::map<std::string, std::weak_ptr<FlowStores>, std::less<>> registry;

std::string provider_of(const ConnectorSpec& spec) {
    return spec.provider.discovery.empty() ? spec.provider.endpoints.issuer
                                           : spec.provider.discovery;
}

bool same_rules(const FlowStores& stores, const ConnectorSpec& spec) {
    return stores.flows.capacity() == spec.max_logins && stores.flows.ttl() == spec.login_ttl &&
           stores.handovers.capacity() == spec.max_handovers &&
           stores.handovers.ttl() == spec.handover_ttl && stores.client_id == spec.client_id &&
           stores.provider == provider_of(spec) && stores.return_urls == spec.return_urls;
}

}  // namespace

FlowStores::FlowStores(const ConnectorSpec& spec)
    : flows(spec.max_logins, spec.login_ttl),
      handovers(spec.max_handovers, spec.handover_ttl),
      client_id(spec.client_id),
      provider(provider_of(spec)),
      return_urls(spec.return_urls) {}

std::shared_ptr<FlowStores> adopt_flow_stores(const std::string& slug, const ConnectorSpec& spec) {
    const std::lock_guard lock(registry_mutex);
    std::erase_if(registry, [](const auto& entry) { return entry.second.expired(); });
    if (const auto found = registry.find(slug); found != registry.end()) {
        if (auto stores = found->second.lock(); stores != nullptr && same_rules(*stores, spec)) {
            return stores;
        }
    }
    auto stores = std::make_shared<FlowStores>(spec);
    registry[slug] = stores;
    return stores;
}

std::string random_token() {
    std::array<unsigned char, 16> bytes{};
    if (RAND_bytes(bytes.data(), static_cast<int>(bytes.size())) != 1) {
        throw std::runtime_error("the random generator failed");
    }
    static constexpr char alphabet[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    std::string out;
    out.reserve(22);
    unsigned bits = 0;
    int held = 0;
    for (const unsigned char b : bytes) {
        bits = (bits << 8) | b;
        held += 8;
        while (held >= 6) {
            held -= 6;
            out += alphabet[(bits >> held) & 0x3f];
        }
    }
    if (held > 0) {
        out += alphabet[(bits << (6 - held)) & 0x3f];
    }
    return out;
}

}  // namespace relais::franceconnect
