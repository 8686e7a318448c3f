#include "soap/soap_response.hpp"

#include <rapidjson/document.h>

#include "core/strings.hpp"

namespace relais::soap {

SoapVersion version_of(const std::vector<Header>& headers) noexcept {
    const std::string* type = find_header(headers, "content-type");
    constexpr std::string_view soap12 = "application/soap+xml";
    if (type != nullptr) {
        const std::string_view value = trim_ows(*type);
        if (value.size() >= soap12.size() &&
            iequals_ascii(value.substr(0, soap12.size()), soap12)) {
            return SoapVersion::soap12;
        }
    }
    return SoapVersion::soap11;
}

HttpResponse fault_response(SoapVersion version, ErrorClass error, std::string_view description) {
    HttpResponse response;
    response.status = describe(error).http_status;
    response.error = error;
    response.content_type = content_type(version);
    response.body = write_fault(version, error, description);
    return response;
}

HttpResponse as_fault(HttpResponse response, SoapVersion version) {
    if (!response.error || response.content_type != "application/json") {
        return response;
    }
    // The envelope is relais's own, written by HttpResponse::failure.
    rapidjson::Document envelope;
    envelope.Parse(response.body.data(), response.body.size());
    std::string_view description = describe(*response.error).slug;
    if (!envelope.HasParseError() && envelope.IsObject()) {
        const auto found = envelope.FindMember("err_desc");
        if (found != envelope.MemberEnd() && found->value.IsString()) {
            description = {found->value.GetString(), found->value.GetStringLength()};
        }
    }
    HttpResponse fault = fault_response(version, *response.error, description);
    fault.status = response.status;
    fault.headers = std::move(response.headers);
    fault.upstream = response.upstream;
    return fault;
}

}  // namespace relais::soap
