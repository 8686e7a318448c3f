#include "outbox/outbox.hpp"

#include <openssl/crypto.h>

#include <atomic>
#include <boost/asio/associated_executor.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <condition_variable>
#include <exception>
#include <map>
#include <mutex>
#include <set>
#include <stdexcept>
#include <thread>
#include <type_traits>

#include "outbox/files.hpp"

namespace relais::outbox {

namespace asio = boost::asio;

namespace {

/// The result of a job that returns nothing.
struct Unit {};

struct JobOptions {
    bool creates = false;  ///< creates the family's database if it has none
    bool deletes = false;  ///< deletes bytes that must then leave the WAL
};

/// A unit of work queued for the outbox thread. A family job runs inside
/// its family's batch transaction; a job without a family (sweep,
/// checkpoint) spans every database and runs after the batch.
class Job {
public:
    Job(std::string family, JobOptions options) : family_(std::move(family)), options_(options) {}
    virtual ~Job() = default;
    Job(const Job&) = delete;
    Job& operator=(const Job&) = delete;

    const std::string& family() const noexcept { return family_; }
    const JobOptions& options() const noexcept { return options_; }

    /// `store` is null for a family job whose family has no database.
    virtual void run(Outbox::Impl& outbox, FamilyStore* store) = 0;
    /// Resumes the awaiting coroutine, on its executor, with the result or
    /// with `error`.
    virtual void complete(std::exception_ptr error) = 0;

private:
    std::string family_;
    JobOptions options_;
};

template <typename T, typename Work, typename Handler>
class TypedJob final : public Job {
public:
    TypedJob(std::string family, JobOptions options, Work work, Handler handler)
        : Job(std::move(family), options),
          work_(std::move(work)),
          handler_(std::move(handler)),
          guard_(asio::make_work_guard(asio::get_associated_executor(handler_))) {}

    void run(Outbox::Impl& outbox, FamilyStore* store) override {
        if constexpr (std::is_invocable_v<Work&, Outbox::Impl&>) {
            result_.emplace(work_(outbox));
        } else if (store != nullptr) {
            result_.emplace(work_(*store));
        } else {
            result_.emplace();
        }
    }

    void complete(std::exception_ptr error) override {
        if (error) {
            result_.reset();
        }
        // The error moves to the handler's thread: none of its references
        // stays on this one.
        asio::post(guard_.get_executor(), [handler = std::move(handler_), error = std::move(error),
                                           result = std::move(result_)]() mutable {
            std::move(handler)(error, result ? std::move(*result) : T{});
        });
        guard_.reset();
    }

private:
    Work work_;
    Handler handler_;
    asio::executor_work_guard<asio::associated_executor_t<Handler>> guard_;
    std::optional<T> result_;
};

/// A copy of `error` (a std::runtime_error with its message) for one of
/// the jobs of a batch. Each job completes on its own thread; one exception
/// object shared by them all would be freed by whichever thread releases
/// it last, through reference counts that libstdc++ keeps out of
/// ThreadSanitizer's sight, which then reports a race.
std::exception_ptr own_copy(const std::exception_ptr& error) {
    if (!error) {
        return nullptr;
    }
    try {
        std::rethrow_exception(error);
    } catch (const std::exception& failure) {
        return std::make_exception_ptr(std::runtime_error(failure.what()));
    } catch (...) {
        return std::make_exception_ptr(std::runtime_error("outbox job failed"));
    }
}

void check_family(std::string_view family) {
    if (!is_family_name(family)) {
        throw std::invalid_argument("outbox family names are lower-case letters and '-'");
    }
}

}  // namespace

struct Outbox::Impl {
    Impl(std::filesystem::path dir, Key k, Settings s)
        : directory(std::move(dir)), key(k), settings(std::move(s)) {}

    ~Impl() { OPENSSL_cleanse(key.bytes.data(), key.bytes.size()); }

    const std::filesystem::path directory;
    Key key;
    const Settings settings;
    std::atomic<std::size_t> commits{0};

    std::mutex mutex;
    std::condition_variable wake;
    std::vector<std::unique_ptr<Job>> queue;  ///< guarded by mutex
    bool stopping = false;                    ///< guarded by mutex
    std::vector<std::string> family_names;    ///< guarded by mutex

    // Owned by the outbox thread (and by the constructor before it starts).
    std::map<std::string, std::unique_ptr<FamilyStore>, std::less<>> stores;
    std::set<std::string, std::less<>> deleted_since_checkpoint;

    std::thread thread;

    FamilyStore& open_store(const std::string& family) {
        auto store = std::make_unique<FamilyStore>(database_file(directory, family), family, &key);
        auto& opened = *stores.emplace(family, std::move(store)).first->second;
        const std::lock_guard lock(mutex);
        family_names.push_back(family);
        return opened;
    }

    /// The job as an operation the caller co_awaits. Callers name the
    /// awaitable and the work before co_awaiting: GCC 12 miscompiles some
    /// temporaries that live across a co_await.
    template <typename T, typename Work>
    asio::awaitable<T> submit(std::string family, JobOptions options, Work work) {
        return asio::async_initiate<decltype(asio::use_awaitable), void(std::exception_ptr, T)>(
            [this](auto handler, std::string job_family, JobOptions job_options, Work job_work) {
                auto job = std::make_unique<TypedJob<T, Work, decltype(handler)>>(
                    std::move(job_family), job_options, std::move(job_work), std::move(handler));
                {
                    const std::lock_guard lock(mutex);
                    queue.push_back(std::move(job));
                }
                wake.notify_one();
            },
            asio::use_awaitable, std::move(family), options, std::move(work));
    }

    void serve() {
        for (;;) {
            std::vector<std::unique_ptr<Job>> batch;
            {
                std::unique_lock lock(mutex);
                wake.wait(lock, [this] { return stopping || !queue.empty(); });
                if (queue.empty()) {
                    return;
                }
                batch.swap(queue);
            }
            std::map<std::string_view, std::vector<Job*>> by_family;
            for (const auto& job : batch) {
                if (!job->family().empty()) {
                    by_family[job->family()].push_back(job.get());
                }
            }
            for (const auto& [family, jobs] : by_family) {
                run_family(std::string(family), jobs);
            }
            for (const auto& job : batch) {
                if (job->family().empty()) {
                    run_alone(*job);
                }
            }
        }
    }

    /// One transaction for every job of the family: one fsync however many
    /// coroutines were waiting. A failure fails them all, since none of
    /// their writes was committed.
    void run_family(const std::string& family, const std::vector<Job*>& jobs) {
        std::exception_ptr error;
        FamilyStore* store = nullptr;
        try {
            if (const auto found = stores.find(family); found != stores.end()) {
                store = found->second.get();
            } else if (std::any_of(jobs.begin(), jobs.end(),
                                   [](const Job* job) { return job->options().creates; })) {
                store = &open_store(family);
            }
            if (store != nullptr) {
                store->begin();
            }
            for (Job* job : jobs) {
                job->run(*this, store);
            }
            if (store != nullptr) {
                store->commit();
                ++commits;
                if (std::any_of(jobs.begin(), jobs.end(),
                                [](const Job* job) { return job->options().deletes; })) {
                    deleted_since_checkpoint.insert(family);
                }
            }
        } catch (...) {
            error = std::current_exception();
            if (store != nullptr) {
                store->rollback();
            }
        }
        for (Job* job : jobs) {
            job->complete(own_copy(error));
        }
    }

    void run_alone(Job& job) {
        std::exception_ptr error;
        try {
            job.run(*this, nullptr);
        } catch (...) {
            error = std::current_exception();
        }
        job.complete(std::move(error));
    }

    /// Every family is swept even if one fails; the first failure is thrown.
    SweepCounts sweep_all() {
        SweepCounts total;
        std::exception_ptr error;
        const auto now = Clock::now();
        for (auto& [family, store] : stores) {
            try {
                store->begin();
                const auto counts = store->sweep(now, settings);
                store->commit();
                ++commits;
                store->checkpoint();
                deleted_since_checkpoint.erase(family);
                total.messages_expired += counts.messages_expired;
                total.payloads_erased += counts.payloads_erased;
                total.messages_purged += counts.messages_purged;
                total.correlations_purged += counts.correlations_purged;
                total.orphan_pieces_dropped += counts.orphan_pieces_dropped;
            } catch (...) {
                store->rollback();
                if (!error) {
                    error = std::current_exception();
                }
            }
        }
        if (error) {
            std::rethrow_exception(error);
        }
        return total;
    }

    Unit checkpoint_deleted() {
        while (!deleted_since_checkpoint.empty()) {
            const auto family = deleted_since_checkpoint.begin();
            stores.at(*family)->checkpoint();
            deleted_since_checkpoint.erase(family);
        }
        return {};
    }
};

Outbox::Outbox(std::filesystem::path directory, Key key, Settings settings)
    : impl_(std::make_unique<Impl>(std::move(directory), key, std::move(settings))) {
    create_private_directory(impl_->directory);
    for (const auto& family : families_in(impl_->directory)) {
        // No upload is in progress yet: a document without its message was
        // left by one that a stop interrupted.
        FamilyStore& store = impl_->open_store(family);
        store.begin();
        store.drop_orphan_documents(Clock::time_point::max());
        store.commit();
    }
    impl_->thread = std::thread([impl = impl_.get()] { impl->serve(); });
}

Outbox::~Outbox() {
    {
        const std::lock_guard lock(impl_->mutex);
        impl_->stopping = true;
    }
    impl_->wake.notify_one();
    impl_->thread.join();
}

const Settings& Outbox::settings() const noexcept {
    return impl_->settings;
}

std::vector<std::string> Outbox::families() const {
    const std::lock_guard lock(impl_->mutex);
    return impl_->family_names;
}

std::size_t Outbox::commits() const noexcept {
    return impl_->commits.load();
}

asio::awaitable<Enqueued> Outbox::enqueue(std::string family, NewMessage message) {
    check_family(family);
    // A repeated demand drops the copy of its document it stored.
    const JobOptions options{.creates = true, .deletes = !message.document.empty()};
    auto work = [message = std::move(message)](FamilyStore& store) {
        return store.enqueue(message, Clock::now());
    };
    auto operation = impl_->submit<Enqueued>(std::move(family), options, std::move(work));
    co_return co_await std::move(operation);
}

asio::awaitable<std::vector<DueMessage>> Outbox::due(std::string family, std::string connector,
                                                     Kind kind, std::size_t limit,
                                                     std::vector<std::string> skip) {
    check_family(family);
    auto work = [connector = std::move(connector), kind, limit, skip = std::move(skip),
                 retention = impl_->settings.dead_letter_retention](FamilyStore& store) {
        return store.due(connector, kind, Clock::now(), limit, skip, retention);
    };
    auto operation = impl_->submit<std::vector<DueMessage>>(std::move(family), {}, std::move(work));
    co_return co_await std::move(operation);
}

asio::awaitable<std::vector<std::string>> Outbox::pending_connectors(std::string family,
                                                                     Kind kind) {
    check_family(family);
    auto work = [kind](FamilyStore& store) { return store.pending_connectors(kind); };
    auto operation =
        impl_->submit<std::vector<std::string>>(std::move(family), {}, std::move(work));
    co_return co_await std::move(operation);
}

asio::awaitable<void> Outbox::record(std::string family, std::string tracking_id,
                                     AttemptRecord record) {
    check_family(family);
    const JobOptions options{.deletes = record.verdict == AttemptRecord::Verdict::delivered};
    auto work = [tracking_id = std::move(tracking_id), record = std::move(record),
                 retention = impl_->settings.dead_letter_retention](FamilyStore& store) {
        store.record(tracking_id, record, Clock::now(), retention);
        return Unit{};
    };
    auto operation = impl_->submit<Unit>(std::move(family), options, std::move(work));
    co_await std::move(operation);
}

asio::awaitable<std::optional<MessageInfo>> Outbox::find(std::string family,
                                                         std::string tracking_id) {
    check_family(family);
    auto work = [tracking_id = std::move(tracking_id)](FamilyStore& store) {
        return store.find(tracking_id);
    };
    auto operation =
        impl_->submit<std::optional<MessageInfo>>(std::move(family), {}, std::move(work));
    co_return co_await std::move(operation);
}

asio::awaitable<std::optional<std::string>> Outbox::find_idempotent(std::string family,
                                                                    std::string connector,
                                                                    std::string idempotency) {
    check_family(family);
    auto work = [connector = std::move(connector), idempotency = std::move(idempotency)](
                    FamilyStore& store) { return store.find_idempotent(connector, idempotency); };
    auto operation =
        impl_->submit<std::optional<std::string>>(std::move(family), {}, std::move(work));
    co_return co_await std::move(operation);
}

asio::awaitable<void> Outbox::put_correlation(std::string family, std::string connector,
                                              std::string reference, std::string demand_url) {
    check_family(family);
    auto work = [connector = std::move(connector), reference = std::move(reference),
                 demand_url = std::move(demand_url)](FamilyStore& store) {
        store.put_correlation(connector, reference, demand_url, Clock::now());
        return Unit{};
    };
    auto operation = impl_->submit<Unit>(std::move(family), {.creates = true}, std::move(work));
    co_await std::move(operation);
}

asio::awaitable<std::optional<std::string>> Outbox::find_correlation(std::string family,
                                                                     std::string connector,
                                                                     std::string reference) {
    check_family(family);
    auto work = [connector = std::move(connector), reference = std::move(reference)](
                    FamilyStore& store) { return store.find_correlation(connector, reference); };
    auto operation =
        impl_->submit<std::optional<std::string>>(std::move(family), {}, std::move(work));
    co_return co_await std::move(operation);
}

asio::awaitable<void> Outbox::remove_correlation(std::string family, std::string connector,
                                                 std::string reference, std::string demand_url) {
    check_family(family);
    auto work = [connector = std::move(connector), reference = std::move(reference),
                 demand_url = std::move(demand_url)](FamilyStore& store) {
        store.remove_correlation(connector, reference, demand_url);
        return Unit{};
    };
    auto operation = impl_->submit<Unit>(std::move(family), {.deletes = true}, std::move(work));
    co_await std::move(operation);
}

asio::awaitable<std::optional<Enqueued>> Outbox::enqueue_closing(std::string family,
                                                                 NewMessage message,
                                                                 std::string reference) {
    check_family(family);
    auto work = [message = std::move(message),
                 reference = std::move(reference)](FamilyStore& store) {
        return store.enqueue_closing(message, reference, Clock::now());
    };
    auto operation = impl_->submit<std::optional<Enqueued>>(std::move(family), {.deletes = true},
                                                            std::move(work));
    co_return co_await std::move(operation);
}

asio::awaitable<void> Outbox::store_piece(std::string family, std::string document,
                                          std::uint64_t seq, std::string text) {
    check_family(family);
    auto work = [document = std::move(document), seq, text = std::move(text)](FamilyStore& store) {
        store.store_piece(document, seq, text, Clock::now());
        return Unit{};
    };
    auto operation = impl_->submit<Unit>(std::move(family), {.creates = true}, std::move(work));
    co_await std::move(operation);
}

asio::awaitable<std::optional<std::string>> Outbox::read_piece(std::string family,
                                                               std::string document,
                                                               std::uint64_t seq) {
    check_family(family);
    auto work = [document = std::move(document), seq](FamilyStore& store) {
        return store.read_piece(document, seq);
    };
    auto operation =
        impl_->submit<std::optional<std::string>>(std::move(family), {}, std::move(work));
    co_return co_await std::move(operation);
}

asio::awaitable<void> Outbox::drop_document(std::string family, std::string document) {
    check_family(family);
    auto work = [document = std::move(document)](FamilyStore& store) {
        store.drop_document(document);
        return Unit{};
    };
    auto operation = impl_->submit<Unit>(std::move(family), {.deletes = true}, std::move(work));
    co_await std::move(operation);
}

asio::awaitable<SweepCounts> Outbox::sweep() {
    auto operation = impl_->submit<SweepCounts>(std::string{}, {},
                                                [](Impl& outbox) { return outbox.sweep_all(); });
    co_return co_await std::move(operation);
}

asio::awaitable<void> Outbox::checkpoint_if_deleted() {
    auto operation = impl_->submit<Unit>(std::string{}, {},
                                         [](Impl& outbox) { return outbox.checkpoint_deleted(); });
    co_await std::move(operation);
}

}  // namespace relais::outbox
