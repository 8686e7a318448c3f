#pragma once
/// @file
/// The core's JSON Schemas from schemas/, compiled into the binary (see
/// relais_embed_files in CMakeLists.txt) so that validation and `relais
/// schema` never depend on the working directory.

#include <string_view>

namespace relais::embedded {

/// schemas/relais.schema.json: relais.yaml.
extern const std::string_view relais_schema_json;
/// schemas/connector.schema.json: what every connector file shares.
extern const std::string_view connector_schema_json;
/// schemas/relais.wsdl: relais's SOAP service (docs/soap-service.md).
extern const std::string_view relais_wsdl;

}  // namespace relais::embedded
