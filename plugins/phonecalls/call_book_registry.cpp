#include "phonecalls/call_book_registry.hpp"

#include <mutex>
#include <string>
#include <unordered_map>

namespace relais::phonecalls {

namespace {

struct Registry {
    std::mutex mutex;
    std::unordered_map<std::string, std::weak_ptr<CallBook>> books;
};

Registry& registry() {
    static Registry instance;
    return instance;
}

}  // namespace

std::shared_ptr<CallBook> adopt_call_book(std::string_view slug, std::string_view family,
                                          const Settings& settings) {
    Registry& r = registry();
    const std::lock_guard lock(r.mutex);
    std::erase_if(r.books, [](const auto& entry) { return entry.second.expired(); });
    // Slugs and family names have no newline: the key is unambiguous.
    std::string key(slug);
    key.append("\n").append(family);
    std::weak_ptr<CallBook>& slot = r.books[key];
    if (auto book = slot.lock()) {
        return book;
    }
    auto book = std::make_shared<CallBook>(settings);
    slot = book;
    return book;
}

}  // namespace relais::phonecalls
