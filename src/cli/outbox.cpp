#include "outbox/outbox.hpp"

#include <sys/stat.h>

#include <algorithm>
#include <charconv>
#include <cstdio>
#include <exception>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "auth/publik_signature.hpp"
#include "cli/commands.hpp"
#include "cli/options.hpp"
#include "config/relais_config.hpp"
#include "core/config_error.hpp"
#include "outbox/message_json.hpp"

namespace relais::cli {

namespace {

namespace store = relais::outbox;

constexpr std::string_view outbox_usage =
    R"(usage: relais outbox <command> --config FILE [options]

Looks at and acts on the outbox of the data directory that FILE (relais.yaml)
names: messages waiting for delivery, delivered, and dead letters. Metadata
only: no payload is decrypted or printed, and of FILE only paths.data is read
(no secret, the outbox key included).
Safe while `relais serve` runs; it sees retried messages at its next poll.

commands:
  list --config FILE [--state S] [--connector SLUG] [--family F] [--limit N]
                            one line per message, newest first
  show --config FILE ID     one message as a JSON object
  retry --config FILE ID    a dead letter that still has its payload: deliver again
  drop --config FILE ID     delete a message, metadata and payload

Run `relais outbox <command> --help` for the options of a command.
Exit status: 0 done, 1 failed (unknown message, unreadable outbox...),
2 usage error.
)";

constexpr std::string_view list_usage =
    R"(usage: relais outbox list --config FILE [--state S] [--connector SLUG]
                          [--family F] [--limit N]

Prints one line per message, newest first, tab-separated, after a header:
tracking_id, family, kind, connector, endpoint, state, attempts, last_status,
error_class, created, updated (times in UTC, ISO 8601; `-` where there is
nothing, such as no status yet).

options:
  --config FILE       the relais.yaml whose data directory holds the outbox
  --state S           pending, delivered or dead
  --connector SLUG    messages of this connector only
  --family F          this family's database only
  --limit N           at most N lines (default 100)
  -h, --help          show this help
)";

constexpr std::string_view show_usage = R"(usage: relais outbox show --config FILE ID

Prints the metadata of message ID as one JSON object: tracking_id, family,
kind, connector, endpoint, state, attempts, last_status, error_class, reason,
created, updated, next_attempt (pending), payload_erase_at (dead letter with
its payload), request_id, has_payload. Never the payload.

options:
  --config FILE   the relais.yaml whose data directory holds the outbox
  -h, --help      show this help
)";

constexpr std::string_view retry_usage = R"(usage: relais outbox retry --config FILE ID

Puts dead letter ID back in the queue: pending, due now, attempts counted
from zero. Only a dead letter whose payload has not been erased yet
(`outbox.dead_letter_retention`) can be retried. The running daemon delivers
it at its next poll.

options:
  --config FILE   the relais.yaml whose data directory holds the outbox
  -h, --help      show this help
)";

constexpr std::string_view drop_usage = R"(usage: relais outbox drop --config FILE ID

Deletes message ID, metadata and payload, whatever its state; a pending
message is then not attempted again (an attempt already in progress ends).

options:
  --config FILE   the relais.yaml whose data directory holds the outbox
  -h, --help      show this help
)";

int failure(const std::string& message) {
    std::fprintf(stderr, "relais outbox: %s\n", message.c_str());
    return 1;
}

bool is_tracking_id(std::string_view text) {
    return text.size() == 32 && text.find_first_not_of("0123456789abcdef") == std::string::npos;
}

/// The data directory of relais.yaml; nullopt after printing why not.
std::optional<std::filesystem::path> data_dir(const std::string& config_file) {
    try {
        return load_data_dir(config_file);
    } catch (const ConfigErrors& e) {
        for (const auto& error : e.errors()) {
            std::fprintf(stderr, "%s\n", error.what());
        }
    } catch (const std::exception& e) {
        failure(e.what());
    }
    return std::nullopt;
}

/// The family databases under `data`, opened without the key.
std::vector<std::unique_ptr<store::FamilyStore>> open_families(const std::filesystem::path& data,
                                                               std::string_view only) {
    const auto dir = store::directory(data);
    std::vector<std::unique_ptr<store::FamilyStore>> stores;
    for (const auto& family : store::families_in(dir)) {
        if (only.empty() || family == only) {
            stores.push_back(std::make_unique<store::FamilyStore>(store::database_file(dir, family),
                                                                  family, nullptr));
        }
    }
    return stores;
}

struct Found {
    std::unique_ptr<store::FamilyStore> family;
    store::MessageInfo info;
};

std::optional<Found> find_message(const std::filesystem::path& data, std::string_view id) {
    for (auto& family : open_families(data, {})) {
        if (auto info = family->find(id)) {
            return Found{std::move(family), std::move(*info)};
        }
    }
    return std::nullopt;
}

std::string or_dash(std::string text) {
    return text.empty() ? "-" : text;
}

int list(std::span<char* const> args) {
    std::string config;
    std::string family;
    store::Filter filter;
    for (std::size_t i = 0; i < args.size(); ++i) {
        if (const auto value = option_value(args, i, "--config")) {
            config = *value;
        } else if (const auto state = option_value(args, i, "--state")) {
            filter.state = store::parse_state(*state);
            if (!filter.state) {
                return usage_error("outbox list", "--state is pending, delivered or dead",
                                   list_usage);
            }
        } else if (const auto connector = option_value(args, i, "--connector")) {
            filter.connector = *connector;
        } else if (const auto only = option_value(args, i, "--family")) {
            family = *only;
            if (!store::is_family_name(family)) {
                return usage_error("outbox list",
                                   "--family takes a family name, such as etat-civil", list_usage);
            }
        } else if (const auto limit = option_value(args, i, "--limit")) {
            const auto end = limit->data() + limit->size();
            const auto [stop, error] = std::from_chars(limit->data(), end, filter.limit);
            if (error != std::errc{} || stop != end || filter.limit == 0) {
                return usage_error("outbox list", "--limit takes a positive number", list_usage);
            }
        } else {
            return usage_error("outbox list", "unexpected argument '" + std::string(args[i]) + "'",
                               list_usage);
        }
    }
    if (config.empty()) {
        return usage_error("outbox list", "--config FILE is required", list_usage);
    }
    const auto data = data_dir(config);
    if (!data) {
        return 1;
    }
    std::vector<store::MessageInfo> messages;
    for (const auto& store : open_families(*data, family)) {
        auto found = store->list(filter);
        std::move(found.begin(), found.end(), std::back_inserter(messages));
    }
    std::sort(messages.begin(), messages.end(), [](const auto& a, const auto& b) {
        return a.created != b.created ? a.created > b.created : a.tracking_id < b.tracking_id;
    });
    messages.resize(std::min(messages.size(), filter.limit));
    std::string out =
        "tracking_id\tfamily\tkind\tconnector\tendpoint\tstate\tattempts\tlast_status\t"
        "error_class\tcreated\tupdated\n";
    for (const auto& m : messages) {
        for (const std::string& column :
             {m.tracking_id, m.family, std::string(store::name(m.kind)), m.connector, m.endpoint,
              std::string(store::name(m.state)), std::to_string(m.attempts),
              m.last_status == 0 ? std::string("-") : std::to_string(m.last_status),
              or_dash(m.error_class), auth::format_timestamp(m.created)}) {
            out += column;
            out += '\t';
        }
        out += auth::format_timestamp(m.updated);
        out += '\n';
    }
    std::fputs(out.c_str(), stdout);
    return 0;
}

/// What show, retry and drop share: `--config FILE ID`, then the message.
int with_message(std::string_view command, std::string_view usage, std::span<char* const> args,
                 int (*act)(Found& found)) {
    std::string config;
    std::string id;
    for (std::size_t i = 0; i < args.size(); ++i) {
        if (const auto value = option_value(args, i, "--config")) {
            config = *value;
        } else if (const std::string_view arg(args[i]); !arg.starts_with('-') && id.empty()) {
            id = arg;
        } else {
            return usage_error(command, "unexpected argument '" + std::string(arg) + "'", usage);
        }
    }
    if (config.empty()) {
        return usage_error(command, "--config FILE is required", usage);
    }
    if (!is_tracking_id(id)) {
        return usage_error(command,
                           id.empty() ? "the tracking id is required"
                                      : "a tracking id is 32 lower-case hexadecimal digits",
                           usage);
    }
    const auto data = data_dir(config);
    if (!data) {
        return 1;
    }
    auto found = find_message(*data, id);
    if (!found) {
        return failure("no message " + id);
    }
    return act(*found);
}

int show(Found& found) {
    std::printf("%s\n", store::to_json(found.info, store::Audience::operator_).c_str());
    return 0;
}

int retry(Found& found) {
    const auto& m = found.info;
    if (m.state != store::State::dead) {
        return failure("message " + m.tracking_id + " is " + std::string(store::name(m.state)) +
                       ": only dead letters can be retried");
    }
    if (!m.has_payload) {
        return failure("dead letter " + m.tracking_id +
                       " has no payload left (erased after outbox.dead_letter_retention): it "
                       "cannot be retried");
    }
    if (!found.family->retry(m.tracking_id, store::Clock::now())) {
        return failure("message " + m.tracking_id + " changed meanwhile: look again with show");
    }
    std::printf("%s: pending again; relais serve delivers it at its next poll\n",
                m.tracking_id.c_str());
    return 0;
}

int drop(Found& found) {
    if (!found.family->drop(found.info.tracking_id)) {
        return failure("no message " + found.info.tracking_id);
    }
    // The deleted payload must not linger in the write-ahead log.
    found.family->checkpoint();
    std::printf("%s: dropped\n", found.info.tracking_id.c_str());
    return 0;
}

}  // namespace

int manage_outbox(std::span<char* const> args) {
    // SQLite may create the databases' -wal and -shm files: private, as the
    // daemon makes them.
    ::umask(077);
    if (args.empty()) {
        std::fputs(outbox_usage.data(), stderr);
        return 2;
    }
    const std::string_view command(args[0]);
    const auto rest = args.subspan(1);
    struct Subcommand {
        std::string_view name;
        std::string_view label;
        std::string_view usage;
        int (*act)(Found&);
    };
    static constexpr Subcommand with_id[] = {
        {"show", "outbox show", show_usage, show},
        {"retry", "outbox retry", retry_usage, retry},
        {"drop", "outbox drop", drop_usage, drop},
    };
    if (command == "-h" || command == "--help" || command == "help") {
        std::fputs(outbox_usage.data(), stdout);
        return 0;
    }
    if (command == "list") {
        if (wants_help(rest)) {
            std::fputs(list_usage.data(), stdout);
            return 0;
        }
        try {
            return list(rest);
        } catch (const std::exception& e) {
            return failure(e.what());
        }
    }
    for (const auto& sub : with_id) {
        if (command == sub.name) {
            if (wants_help(rest)) {
                std::fputs(sub.usage.data(), stdout);
                return 0;
            }
            try {
                return with_message(sub.label, sub.usage, rest, sub.act);
            } catch (const std::exception& e) {
                return failure(e.what());
            }
        }
    }
    return usage_error("outbox", "unknown command '" + std::string(command) + "'", outbox_usage);
}

}  // namespace relais::cli
