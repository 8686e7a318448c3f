// soap/soap_message.hpp on gSOAP's serializers generated from
// schemas/relais.wsdl. gSOAP never touches a socket here: the message is
// already read by the server (bounded by its body limit) and is fed to gSOAP
// through `frecv`; answers are collected through `fsend`.
#include <cstring>
#include <new>
#include <string>

#include "RelaisSoap11.nsmap"
#include "soap/soap_message.hpp"
#include "soap/xml_guard.hpp"
#include "soapH.h"

namespace relais::soap {

namespace {

/// The message being read and the answer being written.
struct Transfer {
    std::string_view input;
    std::string output;
};

size_t receive(struct soap* soap, char* buffer, size_t size) {
    auto& transfer = *static_cast<Transfer*>(soap->user);
    const size_t n = std::min(size, transfer.input.size());
    std::memcpy(buffer, transfer.input.data(), n);
    transfer.input.remove_prefix(n);
    return n;
}

int send(struct soap* soap, const char* data, size_t size) {
    static_cast<Transfer*>(soap->user)->output.append(data, size);
    return SOAP_OK;
}

/// One gSOAP context for one message; everything gSOAP allocated for it
/// goes with it.
class Context {
public:
    explicit Context(std::string_view input)
        : transfer_{input, {}}, soap_(soap_new1(SOAP_C_UTFSTRING)) {
        if (soap_ == nullptr) {
            throw std::bad_alloc();
        }
        soap_set_namespaces(soap_, namespaces);
        soap_->user = &transfer_;
        soap_->frecv = receive;
        soap_->fsend = send;
        // No HTTP around the message: the server has read it.
        soap_->imode |= SOAP_ENC_PLAIN;
        soap_->omode |= SOAP_ENC_PLAIN;
        soap_->maxlevel = static_cast<unsigned>(max_xml_depth);
        soap_->maxlength = static_cast<long>(max_xml_value_bytes);
        soap_->maxoccurs = max_xml_occurrences;
    }
    ~Context() {
        soap_destroy(soap_);
        soap_end(soap_);
        soap_free(soap_);
    }
    Context(const Context&) = delete;
    Context& operator=(const Context&) = delete;

    struct soap* get() const noexcept {
        return soap_;
    }
    std::string take_output() { return std::move(transfer_.output); }

private:
    Transfer transfer_;
    struct soap* soap_;
};

short gsoap_version(SoapVersion version) noexcept {
    return version == SoapVersion::soap12 ? 2 : 1;
}

/// Why gSOAP refused a message, in words that quote nothing of it.
SoapRefusal refusal(int error, SoapVersion version) {
    switch (error) {
        case SOAP_NO_METHOD:
            return {version, ErrorClass::unknown_operation,
                    "the body holds no operation of relais's WSDL (ReportStatus, CreateDemand, "
                    "Ping)"};
        case SOAP_LEVEL:
            return {version, ErrorClass::invalid_xml,
                    "the XML nests elements deeper than the limit"};
        case SOAP_LENGTH:
            return {version, ErrorClass::invalid_xml, "a value is longer than the limit"};
        case SOAP_OCCURS:
            return {version, ErrorClass::invalid_xml, "an element repeats more than the limit"};
        case SOAP_MUSTUNDERSTAND:
            return {version, ErrorClass::invalid_xml,
                    "a header block marked mustUnderstand is not understood"};
        case SOAP_EOM:
            return {version, ErrorClass::internal_error, "the message could not be read"};
        default:
            return {version, ErrorClass::invalid_xml,
                    "the body is not a well-formed SOAP 1.1 or 1.2 envelope"};
    }
}

std::optional<std::string> non_empty(const std::string& value) {
    return value.empty() ? std::nullopt : std::optional<std::string>(value);
}

/// Reads the fields of an operation into `out`; false (soap->error set)
/// beyond the WSDL's maxOccurs, which gSOAP checks only in its strict mode.
bool take_fields(struct soap* soap, const std::vector<r__Field*>& fields,
                 std::vector<server::NamedValue>& out) {
    if (fields.size() > max_xml_occurrences) {
        soap->error = SOAP_OCCURS;
        return false;
    }
    out.reserve(fields.size());
    for (const r__Field* field : fields) {
        if (field == nullptr) {
            continue;
        }
        server::NamedValue value{field->name, {}};
        append_json_string(value.json, field->value);
        out.push_back(std::move(value));
    }
    return true;
}

std::optional<auth::UsernameToken> username_token(const struct soap* soap) {
    if (soap->header == nullptr || soap->header->wsse__Security == nullptr ||
        soap->header->wsse__Security->UsernameToken == nullptr) {
        return std::nullopt;
    }
    const _wsse__UsernameToken& read = *soap->header->wsse__Security->UsernameToken;
    auth::UsernameToken token;
    token.username = read.Username;
    if (read.Password != nullptr) {
        token.password = read.Password->__item;
        token.password_type = read.Password->Type != nullptr ? *read.Password->Type : "";
    }
    token.nonce = read.Nonce != nullptr ? read.Nonce->__item : "";
    token.created = read.wsu__Created != nullptr ? *read.wsu__Created : "";
    return token;
}

/// Reads the operation element the body starts with, or sets soap->error.
std::optional<decltype(SoapRequest::operation)> read_operation(struct soap* soap) {
    (void)soap_peek_element(soap);
    if (!soap_match_tag(soap, soap->tag, "r:ReportStatus")) {
        _r__ReportStatus call;
        if (soap_get__r__ReportStatus(soap, &call, "r:ReportStatus", nullptr) == nullptr) {
            return std::nullopt;
        }
        server::StatusReport report;
        report.reference = non_empty(call.reference);
        report.status = non_empty(call.status);
        if (call.message != nullptr) {
            report.message = *call.message;
        }
        if (!take_fields(soap, call.field, report.fields)) {
            return std::nullopt;
        }
        return report;
    }
    if (!soap_match_tag(soap, soap->tag, "r:CreateDemand")) {
        _r__CreateDemand call;
        if (soap_get__r__CreateDemand(soap, &call, "r:CreateDemand", nullptr) == nullptr) {
            return std::nullopt;
        }
        server::DemandCall demand;
        if (call.reference != nullptr) {
            demand.reference = *call.reference;
        }
        if (!take_fields(soap, call.field, demand.fields)) {
            return std::nullopt;
        }
        return demand;
    }
    if (!soap_match_tag(soap, soap->tag, "r:Ping")) {
        _r__Ping call;
        if (soap_get__r__Ping(soap, &call, "r:Ping", nullptr) == nullptr) {
            return std::nullopt;
        }
        return PingCall{};
    }
    soap->error = SOAP_NO_METHOD;
    return std::nullopt;
}

/// What an answer declares: the envelope and relais's namespace, not the
/// schema and WS-Security ones the reader needs.
const Namespace answer_namespaces[] = {{"SOAP-ENV", "http://schemas.xmlsoap.org/soap/envelope/",
                                        "http://www.w3.org/*/soap-envelope", nullptr},
                                       {"SOAP-ENC", "http://schemas.xmlsoap.org/soap/encoding/",
                                        "http://www.w3.org/*/soap-encoding", nullptr},
                                       {"r", "urn:relais:gru:1", nullptr, nullptr},
                                       {nullptr, nullptr, nullptr, nullptr}};

/// Writes one envelope whose body `put` fills.
template <typename Put>
std::string write_envelope(SoapVersion version, Put&& put) {
    Context context({});
    struct soap* soap = context.get();
    soap_set_namespaces(soap, answer_namespaces);
    soap_set_version(soap, gsoap_version(version));
    soap->encodingStyle = nullptr;  // document/literal
    if (soap_begin_send(soap) != SOAP_OK || soap_envelope_begin_out(soap) != SOAP_OK ||
        soap_body_begin_out(soap) != SOAP_OK || put(soap) != SOAP_OK ||
        soap_body_end_out(soap) != SOAP_OK || soap_envelope_end_out(soap) != SOAP_OK ||
        soap_end_send(soap) != SOAP_OK) {
        throw std::runtime_error("gSOAP could not write an answer");
    }
    return context.take_output();
}

}  // namespace

std::variant<SoapRequest, SoapRefusal> read_request(std::string_view body, SoapVersion fallback) {
    const XmlLimits limits{max_xml_depth, max_xml_value_bytes, max_xml_attributes,
                           max_xml_elements};
    if (const auto refused = guard_xml(body, limits)) {
        return SoapRefusal{fallback, ErrorClass::invalid_xml, *refused};
    }
    Context context(body);
    struct soap* soap = context.get();
    // Envelope, then the header (a UsernameToken), then the body.
    const int begun = soap_begin_serve(soap);
    if (begun != SOAP_OK) {
        // soap->version is gSOAP's default here, not necessarily the caller's.
        return refusal(begun, fallback);
    }
    const SoapVersion version = soap->version == 2 ? SoapVersion::soap12 : SoapVersion::soap11;
    if (soap->version == 0) {
        // gSOAP also takes plain XML without an envelope: relais does not.
        return SoapRefusal{fallback, ErrorClass::invalid_xml,
                           "the body is not a SOAP 1.1 or 1.2 envelope"};
    }
    SoapRequest request;
    request.version = version;
    request.username_token = username_token(soap);
    auto operation = read_operation(soap);
    if (!operation || soap_body_end_in(soap) != SOAP_OK || soap_envelope_end_in(soap) != SOAP_OK ||
        soap_end_recv(soap) != SOAP_OK) {
        return refusal(soap->error, version);
    }
    request.operation = std::move(*operation);
    return request;
}

std::string write_tracking_answer(SoapVersion version, TrackedOperation operation,
                                  std::string_view tracking_id) {
    return write_envelope(version, [&](struct soap* soap) {
        if (operation == TrackedOperation::report_status) {
            _r__ReportStatusResponse answer;
            answer.trackingId = tracking_id;
            return answer.soap_put(soap, "r:ReportStatusResponse", "");
        }
        _r__CreateDemandResponse answer;
        answer.trackingId = tracking_id;
        return answer.soap_put(soap, "r:CreateDemandResponse", "");
    });
}

std::string write_ping_answer(SoapVersion version, std::string_view relais_version) {
    return write_envelope(version, [&](struct soap* soap) {
        _r__PingResponse answer;
        answer.version = relais_version;
        return answer.soap_put(soap, "r:PingResponse", "");
    });
}

std::string write_fault(SoapVersion version, ErrorClass error, std::string_view description) {
    const ErrorInfo info = describe(error);
    const bool sender = info.http_status < 500;
    return write_envelope(version, [&](struct soap* soap) {
        soap_fault(soap);
        SOAP_ENV__Fault& fault = *soap->fault;
        auto* detail = soap_new_SOAP_ENV__Detail(soap);
        detail->r__errorClass = soap_new_std__string(soap);
        detail->r__errorClass->assign(info.slug);
        const std::string text(description);
        if (version == SoapVersion::soap12) {
            fault.SOAP_ENV__Code->SOAP_ENV__Value =
                soap_strdup(soap, sender ? "SOAP-ENV:Sender" : "SOAP-ENV:Receiver");
            fault.SOAP_ENV__Reason->SOAP_ENV__Text = soap_strdup(soap, text.c_str());
            fault.SOAP_ENV__Detail = detail;
        } else {
            fault.faultcode = soap_strdup(soap, sender ? "SOAP-ENV:Client" : "SOAP-ENV:Server");
            fault.faultstring = soap_strdup(soap, text.c_str());
            fault.detail = detail;
        }
        soap_serializefault(soap);
        return soap_putfault(soap);
    });
}

}  // namespace relais::soap
