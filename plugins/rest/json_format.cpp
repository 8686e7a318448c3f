#include <rapidjson/document.h>

#include <memory>
#include <stdexcept>
#include <utility>
#include <vector>

#include "config/config_document.hpp"
#include "config/upstream_fields.hpp"
#include "core/utf8.hpp"
#include "rest/json_template.hpp"
#include "rest/response_mapping.hpp"
#include "rest/wire_format.hpp"

namespace relais::rest {

namespace {

using config::find_member;
using config::text_of;
using rapidjson::Value;

/// Bytes of an upstream error body shown in err_desc (with error_body).
constexpr std::size_t error_body_excerpt = 512;

class JsonAnswer final : public AnswerReader {
public:
    explicit JsonAnswer(ResponseMapping mapping) : mapping_(std::move(mapping)) {}

    std::optional<CallError> read(upstream::Response& response, bool error_body,
                                  std::string& data) const override {
        if (auto refusal = status_refusal(response, error_body)) {
            return refusal;
        }
        if (response.body.empty()) {
            data = "null";
            return std::nullopt;
        }
        return mapping_.apply(response.body, data);
    }

private:
    ResponseMapping mapping_;
};

class JsonFormat final : public WireFormat {
public:
    std::string_view content_type() const override { return "application/json"; }

    std::unique_ptr<const BodyTemplate> load_body(const Value& body,
                                                  const RefResolver& resolve) const override {
        return std::make_unique<JsonTemplate>(JsonTemplate::parse(body, resolve));
    }

    std::unique_ptr<const AnswerReader> load_answer(const ConnectorSource& source,
                                                    const Value* response,
                                                    const std::string& at) const override {
        if (response == nullptr) {
            return std::make_unique<JsonAnswer>(ResponseMapping());
        }
        std::vector<std::pair<std::string, std::string>> fields;
        if (const Value* f = find_member(*response, "fields")) {
            for (const auto& m : f->GetObject()) {
                if (m.name.GetStringLength() == 0) {
                    throw source.error_at(at + "/fields", "an output field needs a name");
                }
                fields.emplace_back(std::string(m.name.GetString(), m.name.GetStringLength()),
                                    text_of(&m.value));
            }
        }
        const std::string data = text_of(find_member(*response, "data"));
        check_pointer(source, data, at + "/data");
        for (const auto& [name, pointer] : fields) {
            std::string where = at + "/fields";
            config::append_pointer_token(where, name);
            check_pointer(source, pointer, where);
        }
        const Value* list = find_member(*response, "list");
        return std::make_unique<JsonAnswer>(
            ResponseMapping(data, list != nullptr && list->IsBool() && list->GetBool(), fields));
    }

private:
    static void check_pointer(const ConnectorSource& source, const std::string& pointer,
                              const std::string& at) {
        try {
            compile_pointer(pointer);
        } catch (const std::invalid_argument& err) {
            throw source.error_at(at, err.what());
        }
    }
};

}  // namespace

void WireFormat::load_request_extras(const ConnectorSource&, const Value&, const std::string&,
                                     EndpointSpec&) const {}

void WireFormat::finish(upstream::Request&) const {}

void WireFormat::interpret_delivery(upstream::Result&) const {}

std::shared_ptr<const WireFormat> json_format() {
    static const auto format = std::make_shared<const JsonFormat>();
    return format;
}

std::optional<CallError> status_refusal(const upstream::Response& response, bool error_body) {
    if (response.status >= 200 && response.status <= 299) {
        return std::nullopt;
    }
    std::string description = "upstream answered " + std::to_string(response.status);
    if (error_body && !response.body.empty()) {
        // Only for endpoints free of personal data; UTF-8 only, to stay
        // valid JSON.
        description +=
            ": " + utf8_excerpt(response.body, error_body_excerpt, "(body not shown: not UTF-8)");
    }
    return CallError{ErrorClass::upstream_error, std::move(description)};
}

}  // namespace relais::rest
