#pragma once
// Helpers of the mail_*_test.cpp files: the connector file of the contract
// (docs/connectors/mail.md) as YAML, variants of it, the connector built
// from it by the module's factory code, and calls to it.

#include <gtest/gtest.h>

#include <algorithm>
#include <boost/asio/io_context.hpp>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "config/config_document.hpp"
#include "core/connector.hpp"
#include "mail/mail_connector.hpp"
#include "mail/mail_spec.hpp"
#include "recording_services.hpp"
#include "upstream_test_support.hpp"

namespace relais::mail::test_support {

using relais::test_support::RecordingServices;

/// The example of the contract; `password-canary-5e1d` stands for a secret.
inline const std::string example_yaml = R"(slug: courrier
kind: mail
family: etat-civil-citoyennete
description: Courrier entrant de la GEC
limits: {concurrency: 8}
delivery: {max_attempts: 10}
upstream:
  base_url: http://127.0.0.1:8091/api/
  auth: {basic: {username: relais, password: password-canary-5e1d}}
inbound:
  max_document_bytes: 20971520
  reference: /id
  document: /document
  filename: /filename
  metadata:
    subject: /subject
    sender: /sender/name
    received: /arrival_date
demand:
  formdef: courrier-entrant
  channel: mail
  document_field: courrier
  reference_field: reference_gec
  fields:
    objet: subject
    expediteur: sender
    date_arrivee: received
notify:
  method: PUT
  path: "mails/{reference}/reply"
  headers: {X-Source: relais}
  body:
    status: reply-ready
    demand: "{body:/demand_url}"
    message: "{body:/message}"
endpoints:
  mails: {description: Courrier enregistré par la GEC}
  closed: {description: Demande close par le GRU}
)";

/// `yaml` with the first `from` replaced by `to`; throws if there is none.
inline std::string replaced(std::string yaml, std::string_view from, std::string_view to) {
    const auto at = yaml.find(from);
    if (at == std::string::npos) {
        throw std::invalid_argument("the test YAML has no such text");
    }
    return yaml.replace(at, from.size(), to);
}

/// The line (from 1) where `text` first appears in `yaml`; 0 if nowhere.
inline int line_of(const std::string& yaml, std::string_view text) {
    const auto at = yaml.find(text);
    if (at == std::string::npos) {
        return 0;
    }
    return 1 +
           static_cast<int>(std::count(yaml.begin(), yaml.begin() + static_cast<long>(at), '\n'));
}

inline config::ConfigDocument parse(const std::string& yaml) {
    return config::parse_yaml(yaml, "courrier.yaml", ".");
}

inline ConnectorSource source_of(const config::ConfigDocument& doc,
                                 const ConnectorServices* services = nullptr) {
    return ConnectorSource{doc.json, doc.values, "courrier", "mail", "etat-civil-citoyennete",
                           {},       services};
}

/// The spec of `yaml`; throws ConfigError like the factory.
inline MailSpec load_spec(const std::string& yaml) {
    const config::ConfigDocument doc = parse(yaml);
    return load_mail_spec(source_of(doc));
}

/// The connector of `yaml`, as the module's factory builds it.
inline std::unique_ptr<Connector> make_connector(const std::string& yaml,
                                                 const ConnectorServices* services = nullptr) {
    const config::ConfigDocument doc = parse(yaml);
    return make_mail_connector(source_of(doc, services));
}

inline IncomingRequest post(std::string body, std::string method = "POST") {
    IncomingRequest r;
    r.method = std::move(method);
    r.body = std::move(body);
    r.request_id = "req-mail-1";
    r.client = "gec";
    return r;
}

/// Calls `handle` to completion.
inline HttpResponse handle(const Connector& connector, std::size_t endpoint,
                           const IncomingRequest& request) {
    boost::asio::io_context io;
    return upstream::testing::run_on(io, connector.handle(endpoint, request));
}

/// The err_class of a failure's body, or "" for a success.
inline std::string err_class(const HttpResponse& response) {
    rapidjson::Document body;
    body.Parse(response.body.c_str());
    if (body.HasParseError() || !body.IsObject() || !body.HasMember("err_class")) {
        return "";
    }
    return body["err_class"].GetString();
}

/// RFC 4648 base64 with padding, to write test documents.
inline std::string base64(std::string_view bytes) {
    static constexpr std::string_view alphabet =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    std::string out;
    for (std::size_t i = 0; i < bytes.size(); i += 3) {
        const std::size_t n = std::min<std::size_t>(3, bytes.size() - i);
        unsigned bits = 0;
        for (std::size_t j = 0; j < 3; ++j) {
            bits = (bits << 8) | (j < n ? static_cast<unsigned char>(bytes[i + j]) : 0u);
        }
        for (std::size_t j = 0; j < 4; ++j) {
            out += j <= n ? alphabet[(bits >> (18 - 6 * j)) & 0x3F] : '=';
        }
    }
    return out;
}

/// A PDF-looking document of exactly `size` bytes (at least 5).
inline std::string pdf_of_size(std::size_t size) {
    std::string pdf = "%PDF-1.7\n";
    pdf.resize(size, 'x');
    return pdf;
}

}  // namespace relais::mail::test_support
