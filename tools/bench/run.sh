#!/usr/bin/env bash
# Benchmark: relais's REST passthrough against nginx proxy_pass, both in front
# of the same local upstream (nginx serving a static GeoCodeJSON document),
# measured with wrk. A third proxy, the floor (tools/bench/floor_proxy.cpp),
# forwards with relais's stack and does nothing else. Method and figures:
# docs/performance.md.
#
# Usage: tools/bench/run.sh          (or `make bench`)
# Environment (defaults in brackets):
#   BUILD_DIR         build directory holding relais, plugins/ and
#                     tools/bench/relais_bench_floor (`make bench` builds it),
#                     relative paths taken from the repository root [build]
#   WRK_THREADS       wrk threads [2]
#   CONNECTIONS       concurrent connections [64]
#   DURATION          measured run per target [10s]
#   WARMUP            warm-up run per target, not measured [3s]
#   ROUNDS            measured runs per target, interleaved; the table shows
#                     the medians [3]
#   SERVER_THREADS    relais and floor I/O threads, nginx proxy workers [2]
#   UPSTREAM_WORKERS  nginx upstream workers [2]
#   UPSTREAM_TLS=1    the upstream answers over HTTPS, with a certificate
#                     made for the run that nginx and relais verify; the
#                     floor, plain HTTP only, is not run [0]
#   BENCH_KEEP=1      keep the work directory (configs, logs, wrk outputs)
#
# Everything listens on 127.0.0.1 only. Exits non-zero if a component fails to
# start, answers wrongly, dies, or a measured run has errors.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/../.." && pwd)
build_dir=${BUILD_DIR:-build}
[[ $build_dir == /* ]] || build_dir=$repo/$build_dir
relais_bin=$build_dir/relais
floor_bin=$build_dir/tools/bench/relais_bench_floor
wrk_threads=${WRK_THREADS:-2}
connections=${CONNECTIONS:-64}
duration=${DURATION:-10s}
warmup=${WARMUP:-3s}
server_threads=${SERVER_THREADS:-2}
upstream_workers=${UPSTREAM_WORKERS:-2}
rounds=${ROUNDS:-3}
upstream_tls=${UPSTREAM_TLS:-0}

query='search?q=8+bd+du+port&limit=5'
auth_header='Authorization: Bearer bench-key'

die() {
    echo "bench: $*" >&2
    exit 1
}

[[ $upstream_tls == [01] ]] || die "UPSTREAM_TLS is 0 or 1, not '$upstream_tls'"
tools=(nginx wrk curl python3 pgrep)
[[ $upstream_tls == 0 ]] || tools+=(openssl)
for tool in "${tools[@]}"; do
    command -v "$tool" >/dev/null || die "$tool not found (run tools/install-deps.sh)"
done
[[ -x $relais_bin ]] || die "$relais_bin not found: build first (make build, or set BUILD_DIR)"
[[ $upstream_tls == 1 || -x $floor_bin ]] ||
    die "$floor_bin not found: cmake --build $build_dir --target relais_bench_floor (make bench does)"

work=$(mktemp -d -t relais-bench.XXXXXX)
# nginx workers run as nobody when the script runs as root: they must be able
# to read the generated files.
chmod 755 "$work"
pids=()

stop_process() {
    local pid=$1
    kill -TERM "$pid" 2>/dev/null || return 0
    for _ in $(seq 50); do
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.1
    done
    kill -KILL "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
}

cleanup() {
    local status=$?
    for pid in "${pids[@]}"; do
        stop_process "$pid"
    done
    if [[ ${BENCH_KEEP:-0} == 1 ]]; then
        echo "bench: work directory kept: $work" >&2
    else
        rm -rf "$work"
    fi
    exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# Four distinct free loopback ports, held together while they are chosen.
free_ports() {
    python3 -c '
import socket
socks = [socket.socket() for _ in range(4)]
for s in socks:
    s.bind(("127.0.0.1", 0))
print(*(s.getsockname()[1] for s in socks))
'
}

# Options curl needs to reach the upstream (its authority, with UPSTREAM_TLS=1).
curl_tls=()

# Fails with the component's log if `pid` dies or `url` does not answer 2xx.
wait_http() {
    local name=$1 pid=$2 url=$3 log=$4
    for _ in $(seq 200); do
        kill -0 "$pid" 2>/dev/null || die "$name exited at start-up: $(tail -n 20 "$log")"
        curl -sf -o /dev/null --max-time 1 "${curl_tls[@]}" "$url" && return 0
        sleep 0.05
    done
    die "$name does not answer on $url: $(tail -n 20 "$log")"
}

# A certificate authority and a certificate for 127.0.0.1 signed by it, in
# DIR; the authority's key is deleted once it has signed.
make_certificates() {
    local dir=$1 log=$1/openssl.log
    mkdir -p "$dir"
    {
        openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj '/CN=relais bench CA' \
            -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign \
            -keyout "$dir/ca.key" -out "$dir/ca.pem" &&
            openssl req -newkey rsa:2048 -nodes -subj '/CN=127.0.0.1' \
                -keyout "$dir/upstream.key" -out "$dir/upstream.csr" &&
            openssl x509 -req -in "$dir/upstream.csr" -CA "$dir/ca.pem" -CAkey "$dir/ca.key" \
                -CAcreateserial -days 1 -extfile <(echo 'subjectAltName=IP:127.0.0.1') \
                -out "$dir/upstream.pem"
    } >"$log" 2>&1 || die "openssl could not make the certificates: $(tail -n 5 "$log")"
    rm -f "$dir/ca.key"
}

# How the upstream is reached, for the templates: plain HTTP unless
# UPSTREAM_TLS=1.
upstream_scheme=http
tls_listen=""
tls_certificate=""
proxy_tls=""
relais_tls=""

declare -A nginx_pid

# start_nginx NAME TEMPLATE PORT WORKERS [UPSTREAM_PORT] [SCHEME]
start_nginx() {
    local name=$1 template=$2 port=$3 workers=$4 upstream_port=${5:-} scheme=${6:-http}
    local prefix=$work/$name user=""
    mkdir -p "$prefix/tmp"
    # Debian has no "nobody" group, nginx's default for workers under root.
    [[ $(id -u) -ne 0 ]] || user="user nobody nogroup;"
    sed -e "s|@USER@|$user|" -e "s|@WORKERS@|$workers|" -e "s|@PREFIX@|$prefix|g" \
        -e "s|@PORT@|$port|" -e "s|@UPSTREAM_PORT@|$upstream_port|" \
        -e "s|@TLS_LISTEN@|$tls_listen|" -e "s|@TLS_CERTIFICATE@|$tls_certificate|" \
        -e "s|@UPSTREAM_SCHEME@|$upstream_scheme|" -e "s|@PROXY_TLS@|$proxy_tls|" \
        "$here/$template" >"$prefix/nginx.conf"
    nginx -p "$prefix/" -c "$prefix/nginx.conf" -g 'daemon off;' \
        >"$prefix/stdout.log" 2>"$prefix/stderr.log" &
    pids+=("$!")
    nginx_pid[$name]=$!
    wait_http "$name" "$!" "$scheme://127.0.0.1:$port/search" "$prefix/stderr.log"
}

# CPU time (clock ticks, user + system, every thread) of a process and of its
# children: an nginx master and its workers.
cpu_ticks() {
    local pid
    for pid in "$1" $(pgrep -P "$1"); do
        # Fields after "pid (comm) ": utime and stime are the 12th and 13th.
        sed -e 's/^.*) //' "/proc/$pid/stat" 2>/dev/null || true
    done | awk '{ n += $12 + $13 } END { print n + 0 }'
}

# CPU time (clock ticks) the whole machine spent busy: every process,
# wrk included, and the kernel's own work (interrupts, softirqs).
box_ticks() {
    # printf: mawk prints integers past 2^31 in exponent form.
    awk '/^cpu / { printf "%.0f\n", $2 + $3 + $4 + $7 + $8; exit }' /proc/stat
}

# Fails with the tail of its log if a server died during the benchmark.
check_alive() {
    local name=$1 pid=$2 log=$3
    kill -0 "$pid" 2>/dev/null && return 0
    local status=0
    wait "$pid" || status=$?
    die "$name died during the benchmark (exit status $status): $(tail -n 20 "$log")"
}

wrk_failed() {
    check_alive "$@"
    die "wrk failed against $1"
}

rss_kb() {
    awk '/^VmRSS:/ {print $2}' "/proc/$1/status"
}

# Checks that relais answered the mapped GeoCodeJSON: proves the benchmark
# measures the JSON Pointer mapping and not an error path.
check_relais_answer() {
    python3 -c '
import json, sys
body = json.load(open(sys.argv[1], encoding="utf-8"))
data = body.get("data")
ok = (body.get("err") == 0 and isinstance(data, list) and len(data) == 5
      and all(set(item) == {"id", "text"} for item in data)
      and data[0] == {"id": "80021_6590_00008", "text": "8 Boulevard du Port 80000 Amiens"})
sys.exit(0 if ok else 1)
' "$1"
}

# The load average still counts a run that just ended: sample idle time instead.
cpu_busy_percent() {
    local a b
    a=$(head -n 1 /proc/stat)
    sleep 1
    b=$(head -n 1 /proc/stat)
    awk -v a="$a" -v b="$b" 'BEGIN {
        n = split(a, x); split(b, y)
        for (i = 2; i <= n; i++) total += y[i] - x[i]
        idle = (y[5] - x[5]) + (y[6] - x[6])
        printf "%.0f\n", total ? 100 * (total - idle) / total : 0
    }'
}

median() {
    printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 }
        END { print (NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2) }'
}

clock_ticks=$(getconf CLK_TCK)

# Space-separated figures of every measured run, per target.
declare -A rps p50 p99 errors cpu upstream_cpu box_cpu

# measure LABEL ROUND CONNECTIONS SERVER_PID SERVER_LOG URL [wrk options...]: one
# measured run (after a warm-up in the first round). Three CPU figures per
# request: the server's under test, the upstream's (the same server for the
# upstream target), and the whole machine's. wrk, the upstream and the server
# share the cores, so the throughput is the cores divided by the last one: a
# server's pace changes what the others spend too (docs/performance.md).
measure() {
    local label=$1 round=$2 conns=$3 server_pid=$4 log=$5 url=$6
    shift 6
    local threads=$((conns < wrk_threads ? conns : wrk_threads))
    local out=$work/results/$label-$round.txt line figures ticks up box r a b e c u m
    check_alive "$label" "$server_pid" "$log"
    if ((round == 1)); then
        wrk -t"$threads" -c"$conns" -d"$warmup" "$@" "$url" >/dev/null ||
            wrk_failed "$label" "$server_pid" "$log"
    fi
    ticks=$(cpu_ticks "$server_pid")
    up=$(cpu_ticks "${nginx_pid[upstream]}")
    box=$(box_ticks)
    wrk -t"$threads" -c"$conns" -d"$duration" --latency -s "$here/report.lua" \
        "$@" "$url" >"$out" || wrk_failed "$label" "$server_pid" "$log"
    check_alive "$label" "$server_pid" "$log"
    check_alive upstream "${nginx_pid[upstream]}" "$work/upstream/stderr.log"
    ticks=$(($(cpu_ticks "$server_pid") - ticks))
    up=$(($(cpu_ticks "${nginx_pid[upstream]}") - up))
    box=$(($(box_ticks) - box))
    line=$(grep '^BENCH ' "$out") || die "wrk printed no summary for $label"
    figures=$(awk -v ticks="$ticks" -v up="$up" -v box="$box" -v hz="$clock_ticks" '{
        for (i = 2; i <= NF; i++) { split($i, kv, "="); v[kv[1]] = kv[2] }
        n = v["requests"]
        printf "%.0f %.2f %.2f %d %.1f %.1f %.1f\n", n / (v["duration_us"] / 1e6),
            v["p50_us"] / 1000, v["p99_us"] / 1000, v["non2xx"] + v["socket_errors"],
            n ? 1e6 * ticks / hz / n : 0, n ? 1e6 * up / hz / n : 0, n ? 1e6 * box / hz / n : 0
    }' <<<"$line")
    read -r r a b e c u m <<<"$figures"
    rps[$label]+=" $r"
    p50[$label]+=" $a"
    p99[$label]+=" $b"
    errors[$label]+=" $e"
    cpu[$label]+=" $c"
    upstream_cpu[$label]+=" $u"
    box_cpu[$label]+=" $m"
    printf 'round %d %-9s %8s req/s  p50 %6s ms  p99 %6s ms  CPU %5s us/req (upstream %5s, machine %5s)  errors %s\n' \
        "$round" "$label" "$r" "$a" "$b" "$c" "$u" "$m" "$e"
}

mkdir -p "$work/results"
read -r upstream_port proxy_port relais_port floor_port < <(free_ports)

echo "relais benchmark: $(date -u +%Y-%m-%dT%H:%M:%SZ)"
echo "machine: $(nproc) CPU ($(awk -F': ' '/^model name/ {print $2; exit}' /proc/cpuinfo)), $(awk '/^MemTotal/ {printf "%.1f GiB", $2 / 1048576}' /proc/meminfo), Linux $(uname -r)"
echo "source: $(git -C "$repo" rev-parse --short HEAD 2>/dev/null || echo unknown) (uncommitted changes not shown)"
echo "versions: $("$relais_bin" version 2>&1 | head -n 1), $(nginx -v 2>&1), $(wrk -v 2>&1 | head -n 1 | cut -d' ' -f1-2)"
echo "load: wrk -t$wrk_threads -c$connections -d$duration --latency, then -t1 -c1 (service time without queueing); $rounds rounds (after a $warmup warm-up)"
echo "servers: relais and floor threads, nginx proxy workers $server_threads; upstream nginx workers $upstream_workers"
if [[ $upstream_tls == 1 ]]; then
    echo "upstream: HTTPS (UPSTREAM_TLS=1, TLS 1.2 or 1.3), verified by nginx and relais; the floor is not run"
fi
busy=$(cpu_busy_percent)
echo "CPU busy before the run: $busy %"
if ((busy > 10)); then
    echo "warning: other processes use the CPU: the figures will be low and noisy" >&2
fi

if [[ $upstream_tls == 1 ]]; then
    # nginx's master reads the certificate and key before its workers drop
    # their privileges: the key stays readable by its owner only.
    tls=$work/tls
    make_certificates "$tls"
    upstream_scheme=https
    tls_listen=" ssl"
    # nginx 1.22 offers TLS 1.3 only when asked to; libcurl and wrk offer it.
    tls_certificate="ssl_certificate $tls/upstream.pem; ssl_certificate_key $tls/upstream.key; ssl_protocols TLSv1.2 TLSv1.3;"
    proxy_tls="proxy_ssl_trusted_certificate $tls/ca.pem; proxy_ssl_verify on; proxy_ssl_name 127.0.0.1; proxy_ssl_protocols TLSv1.2 TLSv1.3;"
    relais_tls=", tls: {ca_file: \"$tls/ca.pem\"}"
    curl_tls=(--cacert "$tls/ca.pem")
fi

mkdir -p "$work/upstream"
cp "$here/geocodejson.json" "$work/upstream/"
chmod 644 "$work/upstream/geocodejson.json"
start_nginx upstream upstream.nginx.conf.in "$upstream_port" "$upstream_workers" "" \
    "$upstream_scheme"
start_nginx proxy proxy.nginx.conf.in "$proxy_port" "$server_threads" "$upstream_port"

labels=(upstream nginx relais nginx-1c relais-1c)
floor_pid=""
if [[ $upstream_tls != 1 ]]; then
    mkdir -p "$work/floor"
    "$floor_bin" "$floor_port" "$upstream_port" "$server_threads" \
        >"$work/floor/stdout.log" 2>"$work/floor/stderr.log" &
    floor_pid=$!
    pids+=("$floor_pid")
    wait_http floor "$floor_pid" "http://127.0.0.1:$floor_port/search" "$work/floor/stderr.log"
    labels+=(floor)
fi

relais_dir=$work/relais
mkdir -p "$relais_dir/connectors" "$relais_dir/var"
chmod 700 "$relais_dir/var"
sed -e "s|@PORT@|$relais_port|" -e "s|@THREADS@|$server_threads|" -e "s|@PLUGINS@|$build_dir/plugins|" \
    "$here/relais.yaml.in" >"$relais_dir/relais.yaml"
sed -e "s|@UPSTREAM_PORT@|$upstream_port|" -e "s|@UPSTREAM_SCHEME@|$upstream_scheme|" \
    -e "s|@UPSTREAM_TLS@|$relais_tls|" \
    "$here/bench-geo.yaml.in" >"$relais_dir/connectors/bench-geo.yaml"
(cd "$relais_dir" && exec "$relais_bin" serve --config relais.yaml) \
    >"$relais_dir/stdout.log" 2>"$relais_dir/stderr.log" &
relais_pid=$!
pids+=("$relais_pid")
# relais logs its "listening" line at level info, which the benchmark's level
# (warn) hides: it listens on a port chosen here and is probed on /_relais/health.
wait_http relais "$relais_pid" "http://127.0.0.1:$relais_port/_relais/health" \
    "$relais_dir/stderr.log"
# Let start-up allocations settle before reading the idle footprint.
sleep 1
idle_rss=$(rss_kb "$relais_pid")

relais_url=http://127.0.0.1:$relais_port/rest/bench-geo/$query
status=$(curl -s -o "$work/results/relais-answer.json" -w '%{http_code}' --max-time 5 \
    -H "$auth_header" "$relais_url") || die "relais does not answer on $relais_url"
if [[ $status != 200 ]] || ! check_relais_answer "$work/results/relais-answer.json"; then
    die "relais answered $status, not the mapped features: $(head -c 600 "$work/results/relais-answer.json")"
fi

echo
# Interleaved so that a burst of background activity hits every target alike.
for round in $(seq "$rounds"); do
    measure upstream "$round" "$connections" "${nginx_pid[upstream]}" \
        "$work/upstream/stderr.log" "$upstream_scheme://127.0.0.1:$upstream_port/$query"
    measure nginx "$round" "$connections" "${nginx_pid[proxy]}" "$work/proxy/stderr.log" \
        "http://127.0.0.1:$proxy_port/$query"
    measure relais "$round" "$connections" "$relais_pid" "$relais_dir/stderr.log" \
        "$relais_url" -H "$auth_header"
    if [[ -n $floor_pid ]]; then
        measure floor "$round" "$connections" "$floor_pid" "$work/floor/stderr.log" \
            "http://127.0.0.1:$floor_port/$query"
    fi
    measure nginx-1c "$round" 1 "${nginx_pid[proxy]}" "$work/proxy/stderr.log" \
        "http://127.0.0.1:$proxy_port/$query"
    measure relais-1c "$round" 1 "$relais_pid" "$relais_dir/stderr.log" "$relais_url" \
        -H "$auth_header"
done
loaded_rss=$(rss_kb "$relais_pid")
peak_rss=$(awk '/^VmHWM:/ {print $2}' "/proc/$relais_pid/status")

declare -A median_rps median_p50 median_p99 median_cpu median_upstream_cpu median_box_cpu error_total
for label in "${labels[@]}"; do
    # Word splitting of the lists is wanted here.
    # shellcheck disable=SC2086
    {
        median_rps[$label]=$(median ${rps[$label]})
        median_p50[$label]=$(median ${p50[$label]})
        median_p99[$label]=$(median ${p99[$label]})
        median_cpu[$label]=$(median ${cpu[$label]})
        median_upstream_cpu[$label]=$(median ${upstream_cpu[$label]})
        median_box_cpu[$label]=$(median ${box_cpu[$label]})
        error_total[$label]=$(printf '%s\n' ${errors[$label]} | awk '{ n += $1 } END { print n }')
    }
done

echo
echo "medians of $rounds rounds:"
echo "(CPU per request: the server's, the upstream's, the whole machine's, wrk included)"
printf '%-26s %10s %9s %9s %12s %9s %9s %7s\n' target 'req/s' 'p50 ms' 'p99 ms' 'CPU us/req' \
    upstream machine errors
row() {
    printf '%-26s %10.0f %9.2f %9.2f %12.1f %9.1f %9.1f %7s\n' "$1" "${median_rps[$2]}" \
        "${median_p50[$2]}" "${median_p99[$2]}" "${median_cpu[$2]}" \
        "${median_upstream_cpu[$2]}" "${median_box_cpu[$2]}" "${error_total[$2]}"
}
row 'upstream (nginx, direct)' upstream
row 'nginx proxy_pass' nginx
row 'relais rest passthrough' relais
[[ -z $floor_pid ]] || row 'floor (stack alone)' floor
row 'nginx proxy_pass, 1 conn' nginx-1c
row 'relais, 1 conn' relais-1c
echo
awk -v r="${median_rps[relais]}" -v n="${median_rps[nginx]}" \
    -v rp="${median_p99[relais]}" -v np="${median_p99[nginx]}" \
    -v rp1="${median_p99[relais-1c]}" -v np1="${median_p99[nginx-1c]}" \
    -v rc="${median_cpu[relais]}" -v nc="${median_cpu[nginx]}" \
    -v f="${median_rps[floor]:-0}" -v fc="${median_cpu[floor]:-0}" \
    -v rm="${median_box_cpu[relais]}" -v nm="${median_box_cpu[nginx]}" \
    -v idle="$idle_rss" -v loaded="$loaded_rss" -v peak="$peak_rss" 'BEGIN {
    ratio = (n > 0 ? 100 * r / n : 0)
    diff = rp - np
    printf "%-30s %8.1f %%   (target >= 80 %%: %s)\n", "relais/nginx throughput", ratio,
        (ratio >= 80 ? "met" : "MISSED")
    printf "%-30s %+8.2f ms  (target <= 1 ms: %s)\n", "relais-nginx p99", diff,
        (diff <= 1 ? "met" : "MISSED")
    printf "%-30s %+8.2f ms\n", "relais-nginx p99, 1 conn", rp1 - np1
    printf "%-30s %8.2f x\n", "relais/nginx CPU per request", (nc > 0 ? rc / nc : 0)
    if (f > 0) {
        printf "%-30s %8.1f %%   (the stack alone)\n", "floor/nginx throughput", (n > 0 ? 100 * f / n : 0)
        printf "%-30s %8.1f %%   (what the work of relais leaves)\n", "relais/floor throughput",
            100 * r / f
        printf "%-30s %8.2f x\n", "relais/floor CPU per request", (fc > 0 ? rc / fc : 0)
    }
    printf "%-30s %8.2f x\n", "machine CPU per request", (nm > 0 ? rm / nm : 0)
    printf "%-30s %8.1f MB  (target < 30 MB: %s)\n", "relais idle RSS", idle / 1024,
        (idle < 30 * 1024 ? "met" : "MISSED")
    printf "%-30s %8.1f MB  (peak %.1f MB)\n", "relais RSS after load", loaded / 1024, peak / 1024
}'

for label in "${labels[@]}"; do
    ((error_total[$label] == 0)) ||
        die "the $label runs had ${error_total[$label]} errors: their figures are not valid"
done
