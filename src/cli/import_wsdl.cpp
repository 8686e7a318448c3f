#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include "auth/client_registry.hpp"
#include "cli/commands.hpp"
#include "cli/options.hpp"
#include "cli/wsdl_reader.hpp"
#include "core/http_types.hpp"

namespace relais::cli {

namespace {

constexpr std::string_view import_usage =
    R"(usage: relais import-wsdl [--slug SLUG] [--family FAMILY] [--soap-version 1.1|1.2] FILE

Reads FILE, a WSDL 1.1 description of a SOAP business application, and prints
on standard output a first connector of kind soap for it: one endpoint per
operation of its first port (bound with SOAP 1.1 if there is one, else 1.2),
with the operation's SOAPAction, a body template holding one parameter per
simple value of its request, and a response that returns the answer's element.
`relais validate` accepts it as written; review the family, the parameters'
constraints and the response mappings before use (docs/connectors/soap.md).

options:
  --slug SLUG             the connector's slug (default: from the service name)
  --family FAMILY         its family (default: reference, to be changed when
                          the application holds personal data)
  --soap-version VERSION  the port to import: 1.1 or 1.2
  -h, --help              show this help
)";

bool is_lower_alnum(char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

/// `GetActeEnCours` -> `get-acte-en-cours`: lower-case letters and digits
/// (and '_' with `keep_underscore`), '-' between words and for anything else.
std::string kebab(std::string_view name, bool keep_underscore) {
    std::string out;
    for (std::size_t i = 0; i < name.size(); ++i) {
        const char c = name[i];
        const bool upper = c >= 'A' && c <= 'Z';
        if (upper && i > 0 && !out.empty() && out.back() != '-' &&
            (is_lower_alnum(name[i - 1]) ||
             (i + 1 < name.size() && name[i + 1] >= 'a' && name[i + 1] <= 'z'))) {
            out += '-';
        }
        if (upper) {
            out += static_cast<char>(c - 'A' + 'a');
        } else if (is_lower_alnum(c) || (keep_underscore && c == '_')) {
            out += c;
        } else if (!out.empty() && out.back() != '-') {
            out += '-';
        }
    }
    while (!out.empty() && (out.front() == '-' || out.front() == '_')) {
        out.erase(0, 1);
    }
    while (!out.empty() && out.back() == '-') {
        out.pop_back();
    }
    return out.empty() ? "operation" : out;
}

/// A parameter name relais accepts for the XML name `name`.
std::string parameter_name(std::string_view name) {
    std::string out;
    for (const char c : name) {
        const bool alpha = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
        out += alpha || (c >= '0' && c <= '9') || c == '_' || c == '.' || c == '-' ? c : '_';
    }
    if (out.empty() || !((out.front() >= 'a' && out.front() <= 'z') ||
                         (out.front() >= 'A' && out.front() <= 'Z') || out.front() == '_')) {
        out.insert(0, "_");
    }
    out = out.substr(0, 60);
    // Credential parameters are taken out of the query before a connector
    // sees it: a SOAP value called `nonce` or `timestamp` needs another name.
    if (auth::is_credential_parameter(out)) {
        out += '_';
    }
    return out;
}

/// `base`, or `base-2`, `base-3`… so that it is not in `taken`.
std::string unique(std::string base, std::set<std::string>& taken, char separator) {
    std::string name = base;
    for (int n = 2; taken.contains(name); ++n) {
        name = base + separator + std::to_string(n);
    }
    taken.insert(name);
    return name;
}

/// A YAML scalar: JSON strings are YAML.
std::string yaml_string(std::string_view text) {
    std::string out;
    append_json_string(out, text);
    return out;
}

/// Prefixes of the namespaces the connector's templates and mappings use.
class Prefixes {
public:
    explicit Prefixes(std::string target) : target_(std::move(target)) {}

    std::string of(const std::string& ns) {
        if (ns.empty()) {
            return {};
        }
        for (const auto& [prefix, uri] : declared_) {
            if (uri == ns) {
                return prefix;
            }
        }
        const std::string prefix =
            ns == target_ ? "tns" : "ns" + std::to_string(declared_.size() + 1);
        declared_.emplace_back(prefix, ns);
        return prefix;
    }

    /// `prefix:local`, or `local` for no namespace.
    std::string qualified(const std::string& ns, const std::string& local) {
        const std::string prefix = of(ns);
        return prefix.empty() ? local : prefix + ":" + local;
    }

    const std::vector<std::pair<std::string, std::string>>& declared() const { return declared_; }

private:
    std::string target_;
    std::vector<std::pair<std::string, std::string>> declared_;
};

void write_endpoint(std::ostream& out, const WsdlOperation& op, Prefixes& prefixes,
                    std::set<std::string>& endpoint_names) {
    out << "  " << unique(kebab(op.name, true), endpoint_names, '-') << ":\n";
    std::string description =
        op.documentation.empty() ? "SOAP operation " + op.name : op.documentation;
    out << "    description: " << yaml_string(description) << "\n";
    std::set<std::string> parameter_names;
    std::vector<std::string> parameters;
    for (const WsdlValue& value : op.values) {
        parameters.push_back(unique(parameter_name(value.name), parameter_names, '_'));
    }
    if (!parameters.empty()) {
        out << "    parameters:\n";
    }
    for (std::size_t i = 0; i < op.values.size(); ++i) {
        const WsdlValue& value = op.values[i];
        out << "      " << parameters[i] << ": {";
        std::string sep;
        if (value.type != "string") {
            out << "type: " << value.type;
            sep = ", ";
        }
        if (value.required) {
            out << sep << "required: true";
        }
        out << "}";
        if (value.repeated) {
            out << "   # " << value.name << " may repeat in the WSDL: one value is sent";
        }
        out << "\n";
    }
    if (!op.skipped.empty()) {
        out << "    # Not imported (not simple values), to add to the body by hand:";
        for (const std::string& name : op.skipped) {
            out << " " << name;
        }
        out << "\n";
    }
    out << "    request:\n";
    out << "      soap_action: " << yaml_string(op.soap_action) << "\n";
    out << "      body: |\n";
    const std::string element = prefixes.qualified(op.request_namespace, op.request_element);
    if (op.values.empty()) {
        out << "        <" << element << "/>\n";
    } else {
        out << "        <" << element << ">\n";
        for (std::size_t i = 0; i < op.values.size(); ++i) {
            const std::string child =
                op.qualified_values ? prefixes.qualified(op.request_namespace, op.values[i].name)
                                    : op.values[i].name;
            out << "          <" << child << ">{" << parameters[i] << "}</" << child << ">\n";
        }
        out << "        </" << element << ">\n";
    }
    if (!op.response_element.empty()) {
        out << "    response:\n";
        out << "      data: "
            << yaml_string(prefixes.qualified(op.response_namespace, op.response_element)) << "\n";
    }
}

}  // namespace

int import_wsdl(std::span<char* const> args) {
    if (wants_help(args)) {
        std::fputs(import_usage.data(), stdout);
        return 0;
    }
    std::string slug;
    std::string family = "reference";
    std::string version;
    std::string file;
    for (std::size_t i = 0; i < args.size(); ++i) {
        if (const auto value = option_value(args, i, "--slug")) {
            slug = *value;
        } else if (const auto f = option_value(args, i, "--family")) {
            family = *f;
        } else if (const auto v = option_value(args, i, "--soap-version")) {
            version = *v;
        } else if (file.empty() && !std::string_view(args[i]).starts_with("-")) {
            file = args[i];
        } else {
            return usage_error("import-wsdl", "unexpected argument '" + std::string(args[i]) + "'",
                               import_usage);
        }
    }
    if (file.empty()) {
        return usage_error("import-wsdl", "FILE is required", import_usage);
    }
    if (!version.empty() && version != "1.1" && version != "1.2") {
        return usage_error("import-wsdl", "--soap-version is 1.1 or 1.2", import_usage);
    }
    std::ifstream in(file, std::ios::binary);
    std::stringstream text;
    text << in.rdbuf();
    if (!in) {
        std::fprintf(stderr, "relais import-wsdl: cannot read %s\n", file.c_str());
        return 1;
    }
    WsdlService service;
    try {
        service = read_wsdl(text.str(), version);
    } catch (const WsdlError& e) {
        std::fprintf(stderr, "%s: %s\n", file.c_str(), e.what());
        return 1;
    }
    if (slug.empty()) {
        slug = kebab(service.service_name, false).substr(0, 63);
    }
    std::string target;
    for (const WsdlOperation& op : service.operations) {
        if (target.empty()) {
            target = op.request_namespace;
        }
    }
    Prefixes prefixes(target);
    std::ostringstream endpoints;
    std::set<std::string> endpoint_names;
    for (const WsdlOperation& op : service.operations) {
        write_endpoint(endpoints, op, prefixes, endpoint_names);
    }
    std::string source = std::filesystem::path(file).filename().string();
    // Written into comments: a line break in a file name would end one.
    std::replace_if(
        source.begin(), source.end(), [](char c) { return static_cast<unsigned char>(c) < 0x20; },
        '?');
    std::ostringstream out;
    out << "# yaml-language-server: $schema=../schemas/soap.schema.json\n"
        << "#\n"
        << "# Written by `relais import-wsdl " << source << "` from the service "
        << service.service_name << " (SOAP " << service.version << ").\n"
        << "# A starting point: set the family, the parameters' constraints and the\n"
        << "# response mappings, then run `relais validate`. See docs/connectors/soap.md.\n"
        << "slug: " << slug << "\n"
        << "kind: soap\n"
        << "family: " << family
        << (family == "reference" ? "   # change it when the application holds personal data" : "")
        << "\n"
        << "description: " << yaml_string(service.service_name + " (imported from " + source + ")")
        << "\n"
        << "upstream:\n"
        << "  base_url: "
        << yaml_string(service.address.empty() ? "https://change.me/" : service.address) << "\n"
        << "  timeout: 30s\n"
        << "soap:\n"
        << "  version: \"" << service.version << "\"\n";
    if (!prefixes.declared().empty()) {
        out << "namespaces:\n";
        for (const auto& [prefix, uri] : prefixes.declared()) {
            out << "  " << prefix << ": " << yaml_string(uri) << "\n";
        }
    }
    out << "endpoints:\n" << endpoints.str();
    std::fputs(out.str().c_str(), stdout);
    return 0;
}

}  // namespace relais::cli
