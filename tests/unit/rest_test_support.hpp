#pragma once
// Helpers of the rest_*_test.cpp files: build a REST connector spec (or the
// connector itself) from a JSON document (as the core hands it to the
// factory after YAML conversion and schema validation) and prepare calls
// against it.

#include <gtest/gtest.h>
#include <rapidjson/document.h>

#include <functional>
#include <memory>
#include <string>
#include <utility>

#include "core/connector.hpp"
#include "rest/connector_spec.hpp"
#include "rest/rest_connector.hpp"

namespace relais::rest::test_support {

/// A loaded connector and what it was loaded from. Every value of the
/// document gets its own line in the source map (in document order), so
/// that tests can check which value an error points at.
struct Loaded {
    rapidjson::Document document;
    SourceMap map{"test.yaml"};
    std::vector<std::string> pointers;         ///< line n is pointers[n - 1]
    std::shared_ptr<const WireFormat> format;  ///< outlives the spec, whose answers use it
    ConnectorSpec spec;

    int line_of(const std::string& pointer) const {
        for (std::size_t i = 0; i < pointers.size(); ++i) {
            if (pointers[i] == pointer) {
                return static_cast<int>(i + 1);
            }
        }
        return 0;
    }
};

inline void number_values(const rapidjson::Value& v, const std::string& pointer, Loaded& out) {
    out.pointers.push_back(pointer);
    out.map.add(pointer, SourcePosition{static_cast<int>(out.pointers.size()), 1});
    if (v.IsObject()) {
        for (const auto& m : v.GetObject()) {
            std::string key;
            for (const char c : std::string_view(m.name.GetString(), m.name.GetStringLength())) {
                key += c == '~'   ? std::string("~0")
                       : c == '/' ? std::string("~1")
                                  : std::string(1, c);
            }
            number_values(m.value, pointer + "/" + key, out);
        }
    } else if (v.IsArray()) {
        for (rapidjson::SizeType i = 0; i < v.Size(); ++i) {
            number_values(v[i], pointer + "/" + std::to_string(i), out);
        }
    }
}

/// The wire format of a kind built on rest's endpoints, read from its file.
using FormatOf = std::function<std::shared_ptr<const WireFormat>(const ConnectorSource&)>;

/// Parses `json` and builds the spec with `format_of`'s format (JSON when
/// empty); throws ConfigError like the factory.
inline std::unique_ptr<Loaded> load(const std::string& json, const FormatOf& format_of = {}) {
    auto loaded = std::make_unique<Loaded>();
    loaded->document.Parse(json.c_str());
    if (loaded->document.HasParseError()) {
        throw std::invalid_argument("test document is not JSON");
    }
    number_values(loaded->document, "", *loaded);
    const ConnectorSource source{loaded->document, loaded->map, "test", "rest", "reference", {}};
    loaded->format = format_of ? format_of(source) : json_format();
    loaded->spec = load_connector_spec(source, *loaded->format);
    return loaded;
}

/// A connector with one endpoint `e` defined by `endpoint_json`.
inline std::unique_ptr<Loaded> load_endpoint(
    const std::string& endpoint_json,
    const std::string& upstream_json = R"({"base_url": "http://up.test/api/"})") {
    return load(R"({"slug": "test", "kind": "rest", "family": "reference", "upstream": )" +
                upstream_json + R"(, "endpoints": {"e": )" + endpoint_json + "}}");
}

/// The connector of kind rest built from `json` by the module's factory code.
inline std::unique_ptr<Connector> make_connector(const std::string& json) {
    rapidjson::Document document;
    document.Parse(json.c_str());
    if (document.HasParseError()) {
        throw std::invalid_argument("test document is not JSON");
    }
    const SourceMap map("test.yaml");
    const ConnectorSource source{document, map, "test", "rest", "reference", {}};
    return make_rest_connector(source);
}

/// The ConfigError message of loading `json`, or "" if it loads.
inline std::string load_error(const std::string& json, int* line = nullptr,
                              const FormatOf& format_of = {}) {
    try {
        load(json, format_of);
    } catch (const ConfigError& e) {
        if (line != nullptr) {
            *line = e.position().line;
        }
        return e.message();
    }
    return {};
}

inline IncomingRequest make_request(std::string method, QueryParams query, std::string body = {}) {
    IncomingRequest r;
    r.method = std::move(method);
    r.query = std::move(query);
    r.body = std::move(body);
    r.request_id = "req-1";
    r.client = "test";
    return r;
}

/// Prepares a call that must succeed.
inline PreparedCall prepare_ok(const Loaded& loaded, const IncomingRequest& request) {
    PreparedCall call;
    const auto error =
        prepare_call(loaded.spec.upstream, loaded.spec.endpoints.at(0), request, call);
    EXPECT_FALSE(error) << (error ? error->description : "");
    return call;
}

/// Prepares a call that must be refused; returns the refusal.
inline CallError prepare_error(const Loaded& loaded, const IncomingRequest& request) {
    PreparedCall call;
    const auto error =
        prepare_call(loaded.spec.upstream, loaded.spec.endpoints.at(0), request, call);
    EXPECT_TRUE(error) << "accepted, url " << call.url;
    return error.value_or(CallError{ErrorClass::internal_error, "accepted"});
}

}  // namespace relais::rest::test_support
