#pragma once
// ConnectorServices for unit tests of connectors that open GRU demands:
// records every demand it is asked to queue and answers a fixed tracking id.

#include <boost/asio/awaitable.hpp>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/connector.hpp"

namespace relais::test_support {

class RecordingServices final : public ConnectorServices {
public:
    boost::asio::awaitable<std::optional<std::string>> submit_demand(
        std::string_view connector, std::string_view family, GruDemand demand) const override {
        const std::lock_guard lock(mutex);
        calls.push_back({std::string(connector), std::string(family), std::move(demand)});
        co_return answer;
    }

    /// A document kept in memory: what a connector wrote, for assertions.
    class MemoryDocument final : public DocumentWriter {
    public:
        explicit MemoryDocument(const RecordingServices& services) : services_(services) {}
        boost::asio::awaitable<bool> write(std::string_view text) override {
            text_.append(text);
            co_return true;
        }
        boost::asio::awaitable<std::optional<StoredDocument>> finish() override {
            const std::lock_guard lock(services_.mutex);
            services_.documents.push_back(text_);
            co_return StoredDocument{std::to_string(services_.documents.size() - 1), text_.size()};
        }
        boost::asio::awaitable<void> discard() override {
            const std::lock_guard lock(services_.mutex);
            ++services_.discarded;
            co_return;
        }

    private:
        const RecordingServices& services_;
        std::string text_;
    };

    std::unique_ptr<DocumentWriter> open_document(std::string_view) const override {
        return std::make_unique<MemoryDocument>(*this);
    }

    /// The text of the document a demand carries: its id is its index.
    const std::string& document_of(const GruDemand& demand) const {
        return documents.at(std::stoul(demand.document.value().id));
    }

    struct Call {
        std::string connector;
        std::string family;
        GruDemand demand;
    };
    /// What submit_demand answers; nullopt: the demand could not be queued.
    std::optional<std::string> answer = "0123456789abcdef0123456789abcdef";
    mutable std::mutex mutex;
    mutable std::vector<Call> calls;
    mutable std::vector<std::string> documents;  ///< finished, in order
    mutable std::size_t discarded = 0;
};

}  // namespace relais::test_support
