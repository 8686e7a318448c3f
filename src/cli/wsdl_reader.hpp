#pragma once
/// @file
/// What `relais import-wsdl` reads of a WSDL 1.1 description: the SOAP
/// operations of one port, each with its SOAPAction, the element its
/// request is made of and the simple values inside it, and the element of
/// its answer. Enough to write a first connector of kind soap; what cannot
/// be read as simple values (nested structures, arrays) is named, for the
/// integrator to write by hand.

#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

namespace relais::cli {

/// A WSDL that cannot be imported; the message says why and where.
class WsdlError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

/// A simple value of an operation's request.
struct WsdlValue {
    std::string name;             ///< element local name
    std::string type = "string";  ///< string, integer, number or boolean
    bool required = true;         ///< minOccurs is not 0
    bool repeated = false;        ///< maxOccurs above 1: imported once, said in a comment
};

struct WsdlOperation {
    std::string name;
    std::string soap_action;
    std::string documentation;
    /// Document style: the request element's namespace and local name.
    /// RPC style: the operation's name in the body's namespace.
    std::string request_namespace;
    std::string request_element;
    bool qualified_values = true;  ///< children written with the prefix (elementFormDefault)
    std::vector<WsdlValue> values;
    std::vector<std::string> skipped;  ///< children that are not simple values
    std::string response_namespace;
    std::string response_element;  ///< empty: a one-way operation
};

struct WsdlService {
    std::string service_name;
    std::string address;  ///< soap:address location
    std::string version;  ///< "1.1" or "1.2"
    std::vector<WsdlOperation> operations;
};

/// Reads `text` (a WSDL 1.1 document) and picks the first port of the
/// first service bound with SOAP `version` ("1.1" or "1.2"; empty: 1.1 if
/// any, else 1.2). Throws WsdlError.
WsdlService read_wsdl(const std::string& text, const std::string& version);

}  // namespace relais::cli
