#pragma once
/// @file
/// The connector of kind `mail` (mail management, GEC). Two endpoints:
///
/// | endpoint | caller | what it does |
/// |---|---|---|
/// | `mails` (0) | the GEC, POST | checks a registered mail and queues the w.c.s. demand it opens
/// (ConnectorServices::submit_demand, with the mail's reference); 202 with the tracking id | |
/// `closed` (1) | the GRU's workflow, POST, async, closes_demand | prepare_push builds the
/// notification to the GEC from notify's templates; deliver sends it like kind rest's pushes |

#include <memory>

#include "core/connector.hpp"

namespace relais::mail {

/// Index of `mails` in the connector's endpoints.
inline constexpr std::size_t mails_endpoint = 0;
/// Index of `closed` in the connector's endpoints.
inline constexpr std::size_t closed_endpoint = 1;

/// Builds a connector from a connector file valid against mail.schema.json.
/// Throws ConfigError on semantic errors.
std::unique_ptr<Connector> make_mail_connector(const ConnectorSource& source);

}  // namespace relais::mail
