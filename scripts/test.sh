#!/usr/bin/env bash
# scripts/test.sh — the one test command for trolyao.
#
# On a Debian 12 machine (fresh or not; as root, or as a developer with sudo)
# it installs and starts what the tests need, then runs the whole suite:
#
#   1. Go (the go on PATH or /usr/local/go/bin; never downloaded from elsewhere),
#      a C compiler for -race, CA certificates for the module proxy.
#   2. PostgreSQL on 127.0.0.1:5432 with pgvector >= 0.8 and unaccent: reuses a
#      running server, otherwise installs/starts Debian's postgresql; builds
#      pgvector from Debian trixie's source package when it is missing.
#      Creates the database trolyao_test and exports TROLYAO_TEST_DATABASE.
#   3. Chromium, only when browser tests exist (see ensure_chromium).
#   4. gofmt, go vet, the dependency-direction checks from DESIGN.md, go build,
#      go test -race, the whole-catalog tests, the README's examples and the
#      attack and fault suites without the race detector — failing on the first error —
#      and a summary.
#
# Environment:
#   TROLYAO_TEST_DATABASE  URL of the test database; when set, no server is
#                          provisioned, only the extensions are checked there.
#   TROLYAO_TEST_PGPORT    port of the local test server (default 5432).
#   TROLYAO_TEST_TIMEOUT   go test -timeout (default 20m).
#   TROLYAO_TEST_LOG       setup log (apt, builds); default /tmp/trolyao-test-setup.log
#   TROLYAO_BROWSER_TESTS  1 forces the Chromium install.
# shellcheck disable=SC2015,SC2016 # "a && b || die" is intended; sh -c scripts are single-quoted
set -Eeuo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
LOG=${TROLYAO_TEST_LOG:-${TMPDIR:-/tmp}/trolyao-test-setup.log}
PGPORT_TEST=${TROLYAO_TEST_PGPORT:-5432}
TEST_DB=trolyao_test
ADMIN_URL="postgres://postgres@127.0.0.1:${PGPORT_TEST}/postgres?sslmode=disable"
PGVECTOR_MIN=0.8
HBA_MARK="# trolyao scripts/test.sh"
export DEBIAN_FRONTEND=noninteractive

APT_UPDATED=
CURRENT_STEP=setup
SUMMARY=()
PG_INFO=
VECTOR_INFO=

# ---------------------------------------------------------------- output ----

say()  { printf '==> %s\n' "$*"; }
note() { printf '    %s\n' "$*"; }
die() {
	printf '\ntest.sh: FAILED (%s): %s\n' "$CURRENT_STEP" "$*" >&2
	exit 1
}
# die_log shows the end of the setup log, where apt and make wrote their output.
die_log() {
	if [ -s "$LOG" ]; then
		printf '\n---- last 40 lines of %s ----\n' "$LOG" >&2
		tail -n 40 "$LOG" >&2
		printf -- '---- end of log ----\n' >&2
	fi
	die "$@"
}
version_ge() { # version_ge A B: A >= B
	[ "$(printf '%s\n%s\n' "$1" "$2" | sort -V | head -n1)" = "$2" ]
}

# ------------------------------------------------------------ privileges ----

if [ "$(id -u)" -eq 0 ]; then
	IS_ROOT=1
else
	IS_ROOT=
fi

as_root() {
	if [ -n "$IS_ROOT" ]; then
		"$@"
	elif command -v sudo >/dev/null 2>&1; then
		sudo "$@"
	else
		die "need root for: $* — run as root or install sudo"
	fi
}

# as_postgres runs a command as the postgres OS user (peer auth on the local socket).
as_postgres() {
	if [ -n "$IS_ROOT" ]; then
		(cd / && runuser -u postgres -- "$@")
	else
		(cd / && sudo -u postgres "$@")
	fi
}

# ------------------------------------------------------------------- apt ----

apt_update_once() {
	[ -z "$APT_UPDATED" ] || return 0
	note "apt-get update"
	as_root apt-get -o DPkg::Lock::Timeout=600 update >>"$LOG" 2>&1 ||
		die_log "apt-get update failed"
	APT_UPDATED=1
}

# apt_install installs the packages that are not installed yet.
apt_install() {
	local p missing=()
	for p in "$@"; do
		if [ "$(dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null)" != installed ]; then
			missing+=("$p")
		fi
	done
	[ "${#missing[@]}" -gt 0 ] || return 0
	command -v apt-get >/dev/null 2>&1 ||
		die "need ${missing[*]} but apt-get is missing (this script supports Debian 12)"
	note "installing ${missing[*]} (log: $LOG)"
	apt_update_once
	# LANG matters to postgresql's postinst: without it, the new cluster is SQL_ASCII.
	as_root env DEBIAN_FRONTEND=noninteractive LANG="${LANG:-C.UTF-8}" apt-get -o DPkg::Lock::Timeout=600 \
		install -y --no-install-recommends "${missing[@]}" >>"$LOG" 2>&1 ||
		die_log "apt-get install ${missing[*]} failed"
}

# -------------------------------------------------------------------- Go ----

ensure_go() {
	CURRENT_STEP="go toolchain"
	if ! command -v go >/dev/null 2>&1; then
		if [ -x /usr/local/go/bin/go ]; then
			export PATH="/usr/local/go/bin:$PATH"
		else
			die "Go is not installed: put go on PATH or install it at /usr/local/go (go.mod wants $(awk '$1=="go"{print $2}' "$ROOT/go.mod")); this script does not download toolchains"
		fi
	fi
	GOFMT="$(go env GOROOT)/bin/gofmt"
	[ -x "$GOFMT" ] || GOFMT=gofmt
	note "$(go version)"

	local need=()
	# Modules come from the Go module proxy over HTTPS.
	[ -s /etc/ssl/certs/ca-certificates.crt ] || need+=(ca-certificates)
	# A fresh clone carries .git; go build stamps VCS info and needs git for it.
	if [ -e "$ROOT/.git" ] && ! command -v git >/dev/null 2>&1; then
		need+=(git)
	fi
	# TestReadmeRunIt runs the README's curl examples.
	command -v curl >/dev/null 2>&1 || need+=(curl)
	# -race needs cgo, hence a C compiler and libc headers.
	if ! command -v gcc >/dev/null 2>&1 || [ ! -e /usr/include/stdio.h ]; then
		need+=(gcc libc6-dev)
	fi
	[ "${#need[@]}" -eq 0 ] || apt_install "${need[@]}"
	export CGO_ENABLED=1
}

# ------------------------------------------------------------ PostgreSQL ----

psql_url() { # psql_url URL ARGS...: never prompts for a password
	local url=$1
	shift
	psql -X -q -w -At -v ON_ERROR_STOP=1 -d "$url" "$@"
}

server_ready() {
	pg_isready -q -h 127.0.0.1 -p "$PGPORT_TEST" -t 3 >/dev/null 2>&1
}

wait_ready() {
	for _ in $(seq 1 60); do
		server_ready && return 0
		sleep 1
	done
	return 1
}

# local_cluster prints "VERSION NAME STATUS" of the Debian cluster on our port.
local_cluster() {
	command -v pg_lsclusters >/dev/null 2>&1 || return 0
	pg_lsclusters -h 2>/dev/null | awk -v port="$PGPORT_TEST" '$3 == port { print $1, $2, $4; exit }'
}

start_cluster() { # start_cluster VERSION NAME
	note "starting cluster $1/$2 on port $PGPORT_TEST"
	if [ -d /run/systemd/system ]; then
		as_root systemctl start "postgresql@$1-$2" >>"$LOG" 2>&1 || true
	fi
	server_ready || as_root pg_ctlcluster --skip-systemctl-redirect "$1" "$2" start >>"$LOG" 2>&1 ||
		{ tail -n 20 "/var/log/postgresql/postgresql-$1-$2.log" >>"$LOG" 2>/dev/null || true; die_log "could not start PostgreSQL cluster $1/$2"; }
	wait_ready || die_log "PostgreSQL cluster $1/$2 did not accept connections on 127.0.0.1:$PGPORT_TEST"
}

ensure_server() {
	CURRENT_STEP="postgresql server"
	if ! command -v pg_isready >/dev/null 2>&1 || ! command -v psql >/dev/null 2>&1; then
		if (exec 3<>"/dev/tcp/127.0.0.1/$PGPORT_TEST") 2>/dev/null; then
			apt_install postgresql-client # a server listens already
		else
			apt_install postgresql # server and client
		fi
	fi
	if server_ready; then
		note "reusing the server on 127.0.0.1:$PGPORT_TEST"
		return 0
	fi
	# Exit status 1 means "rejecting connections" (starting up): give it a moment.
	local rc=0
	pg_isready -q -h 127.0.0.1 -p "$PGPORT_TEST" -t 3 >/dev/null 2>&1 || rc=$?
	if [ "$rc" -eq 1 ] && wait_ready; then
		note "reusing the server on 127.0.0.1:$PGPORT_TEST"
		return 0
	fi

	if ! compgen -G '/usr/lib/postgresql/*/bin/postgres' >/dev/null; then
		apt_install postgresql
	fi
	local ver name status cluster
	cluster=$(local_cluster)
	if [ -z "$cluster" ]; then
		ver=$(find /usr/lib/postgresql -mindepth 3 -maxdepth 3 -path '*/bin/postgres' | awk -F/ '{print $5}' | sort -V | tail -n1)
		[ -n "$ver" ] || die "PostgreSQL server binaries not found under /usr/lib/postgresql"
		name=main
		[ ! -d "/etc/postgresql/$ver/main" ] || name=trolyao
		note "creating cluster $ver/$name on port $PGPORT_TEST"
		as_root env LANG="${LANG:-C.UTF-8}" pg_createcluster -p "$PGPORT_TEST" "$ver" "$name" >>"$LOG" 2>&1 ||
			die_log "pg_createcluster $ver $name failed"
		cluster="$ver $name down"
	fi
	read -r ver name status <<<"$cluster"
	if [ "$status" != online ] || ! server_ready; then
		start_cluster "$ver" "$name"
	fi
}

# ensure_tcp_auth lets postgres connect over TCP on 127.0.0.1 without a password.
# A fresh Debian cluster asks for scram-sha-256 there; we add trust lines for the
# postgres role on the loopback addresses (marked, so it happens once) and reload.
ensure_tcp_auth() {
	CURRENT_STEP="postgresql auth"
	psql_url "$ADMIN_URL" -c 'select 1' >/dev/null 2>>"$LOG" && return 0
	local cluster hba
	cluster=$(local_cluster)
	[ -n "$cluster" ] ||
		die_log "cannot connect to $ADMIN_URL and the server on port $PGPORT_TEST is not a local Debian cluster; set TROLYAO_TEST_DATABASE to a database where postgres may create extensions"
	hba=$(as_postgres psql -X -At -p "$PGPORT_TEST" -d postgres -c 'show hba_file' 2>>"$LOG") ||
		die_log "cannot reach the local cluster as the postgres OS user to read hba_file"
	if ! as_root grep -qF "$HBA_MARK" "$hba"; then
		note "allowing passwordless TCP for role postgres from 127.0.0.1/::1 in $hba"
		as_root sh -c 'f=$1; mark=$2; tmp=$(mktemp) &&
			{ printf "%s\nhost all postgres 127.0.0.1/32 trust\nhost all postgres ::1/128 trust\n\n" "$mark"; cat "$f"; } >"$tmp" &&
			cat "$tmp" >"$f" && rm -f "$tmp"' sh "$hba" "$HBA_MARK" ||
			die "could not edit $hba"
	fi
	as_postgres psql -X -q -At -p "$PGPORT_TEST" -d postgres -c 'select pg_reload_conf()' >/dev/null 2>>"$LOG" ||
		die_log "could not reload the PostgreSQL configuration"
	sleep 1
	psql_url "$ADMIN_URL" -c 'select 1' >/dev/null 2>>"$LOG" ||
		die_log "still cannot connect to $ADMIN_URL after editing $hba"
}

# ensure_database creates trolyao_test with UTF8 encoding. A cluster created by
# apt in an environment without LANG is SQL_ASCII, where unaccent and lower()
# cannot handle Vietnamese; then the database comes from template0 with C.UTF-8.
ensure_database() {
	CURRENT_STEP="test database"
	local enc
	enc=$(psql_url "$ADMIN_URL" -c "select pg_encoding_to_char(encoding) from pg_database where datname = '$TEST_DB'")
	if [ -n "$enc" ] && [ "$enc" != UTF8 ]; then
		note "database $TEST_DB has encoding $enc; recreating it as UTF8"
		psql_url "$ADMIN_URL" -c "drop database $TEST_DB" >/dev/null 2>>"$LOG" || die_log "could not drop database $TEST_DB"
		enc=
	fi
	[ -z "$enc" ] || return 0
	note "creating database $TEST_DB"
	if [ "$(psql_url "$ADMIN_URL" -c "select pg_encoding_to_char(encoding) from pg_database where datname = 'template1'")" = UTF8 ]; then
		psql_url "$ADMIN_URL" -c "create database $TEST_DB" >/dev/null 2>>"$LOG"
	else
		psql_url "$ADMIN_URL" -c "create database $TEST_DB template template0 encoding 'UTF8' lc_collate 'C.UTF-8' lc_ctype 'C.UTF-8'" >/dev/null 2>>"$LOG"
	fi || [ -n "$(psql_url "$ADMIN_URL" -c "select 1 from pg_database where datname = '$TEST_DB'")" ] ||
		die_log "could not create database $TEST_DB"
}

# --------------------------------------------------------------- pgvector ----

# ensure_pgvector_source makes a pgvector >= 0.8 source package known to apt:
# bookworm has none, trixie's is 0.8.x. Only a deb-src line is added, so no
# binary package comes from trixie.
ensure_pgvector_source() {
	local v
	v=$( (apt-cache showsrc pgvector 2>/dev/null || true) | awk '/^Version:/ {print $2}' | sort -V | tail -n1)
	if [ -n "$v" ] && version_ge "${v%%-*}" "$PGVECTOR_MIN"; then return 0; fi
	if ! grep -rqsE '^[[:space:]]*deb-src[[:space:]].*[[:space:]]trixie[[:space:]]' /etc/apt/sources.list /etc/apt/sources.list.d/; then
		note "adding deb-src for Debian trixie (/etc/apt/sources.list.d/trolyao-trixie-src.list)"
		echo 'deb-src http://deb.debian.org/debian trixie main' |
			as_root tee /etc/apt/sources.list.d/trolyao-trixie-src.list >/dev/null
	fi
	APT_UPDATED=
	apt_update_once
	v=$( (apt-cache showsrc pgvector 2>/dev/null || true) | awk '/^Version:/ {print $2}' | sort -V | tail -n1)
	[ -n "$v" ] && version_ge "${v%%-*}" "$PGVECTOR_MIN" ||
		die "apt knows no pgvector >= $PGVECTOR_MIN source package (found '${v:-none}')"
}

# build_pgvector MAJOR [DESTDIR] builds pgvector from Debian trixie's source
# package for PostgreSQL MAJOR and installs it (into DESTDIR when given, which
# is only for trying the build out without touching the server).
build_pgvector() {
	local major=$1 destdir=${2:-} work src pg_config
	pg_config=/usr/lib/postgresql/$major/bin/pg_config
	say "building pgvector for PostgreSQL $major from Debian trixie source (log: $LOG)"
	ensure_pgvector_source
	apt_install dpkg-dev make gcc libc6-dev "postgresql-server-dev-$major"
	[ -x "$pg_config" ] || die "$pg_config missing after installing postgresql-server-dev-$major"
	work=$(mktemp -d "${TMPDIR:-/tmp}/pgvector.XXXXXX")
	chmod 755 "$work"
	(cd "$work" && apt-get source pgvector) >>"$LOG" 2>&1 || { rm -rf "$work"; die_log "apt-get source pgvector failed"; }
	src=$(find "$work" -mindepth 1 -maxdepth 1 -type d -name 'pgvector-*' | head -n1)
	[ -n "$src" ] || { rm -rf "$work"; die_log "apt-get source pgvector unpacked nothing"; }
	note "compiling $(basename "$src")"
	make -C "$src" PG_CONFIG="$pg_config" >>"$LOG" 2>&1 || { rm -rf "$work"; die_log "pgvector build failed"; }
	as_root make -C "$src" PG_CONFIG="$pg_config" ${destdir:+DESTDIR="$destdir"} install >>"$LOG" 2>&1 ||
		{ rm -rf "$work"; die_log "pgvector install failed"; }
	rm -rf "$work"
}

# install_pgvector MAJOR: a binary package when a configured repository (e.g.
# apt.postgresql.org) has one >= 0.8, otherwise the trixie source build.
install_pgvector() {
	local major=$1 cand
	[ -d "/usr/lib/postgresql/$major" ] ||
		die "the server on 127.0.0.1:$PGPORT_TEST is PostgreSQL $major but not a local Debian installation; install pgvector >= $PGVECTOR_MIN into it yourself, or set TROLYAO_TEST_DATABASE"
	cand=$( (apt-cache policy "postgresql-$major-pgvector" 2>/dev/null || true) | awk '/Candidate:/ {print $2}')
	if [ -n "$cand" ] && [ "$cand" != "(none)" ] && version_ge "${cand%%-*}" "$PGVECTOR_MIN"; then
		apt_install "postgresql-$major-pgvector"
	else
		build_pgvector "$major"
	fi
}

vector_available() { # prints the default version of the vector extension, if any
	psql_url "$1" -c "select default_version from pg_available_extensions where name = 'vector'"
}

ensure_extensions() {
	CURRENT_STEP="extensions"
	local url=$TROLYAO_TEST_DATABASE avail major installed
	avail=$(vector_available "$url" 2>>"$LOG") || die_log "cannot connect to $url"
	if [ -z "$avail" ] || ! version_ge "$avail" "$PGVECTOR_MIN"; then
		[ -z "$PRESET_URL" ] ||
			die "TROLYAO_TEST_DATABASE is set, but its server has pgvector '${avail:-none}' (need >= $PGVECTOR_MIN); install it there or unset the variable so this script provisions a local server"
		major=$(( $(psql_url "$url" -c 'show server_version_num') / 10000 ))
		note "pgvector available: '${avail:-none}', need >= $PGVECTOR_MIN"
		install_pgvector "$major"
		avail=$(vector_available "$url")
		[ -n "$avail" ] && version_ge "$avail" "$PGVECTOR_MIN" ||
			die "pgvector is '${avail:-none}' after installing it (need >= $PGVECTOR_MIN)"
	fi
	[ -n "$(psql_url "$url" -c "select 1 from pg_available_extensions where name = 'unaccent'")" ] ||
		die "the unaccent extension is not available on the server (Debian ships it with postgresql-<major>; elsewhere install the contrib modules)"

	psql_url "$url" -c 'create extension if not exists vector' -c 'create extension if not exists unaccent' >/dev/null 2>>"$LOG" ||
		die_log "could not create the vector and unaccent extensions in $url"
	installed=$(psql_url "$url" -c "select extversion from pg_extension where extname = 'vector'")
	if ! version_ge "$installed" "$PGVECTOR_MIN"; then
		note "updating extension vector $installed -> $avail"
		psql_url "$url" -c 'alter extension vector update' >/dev/null 2>>"$LOG" || die_log "alter extension vector update failed"
		installed=$(psql_url "$url" -c "select extversion from pg_extension where extname = 'vector'")
	fi
	version_ge "$installed" "$PGVECTOR_MIN" ||
		die "extension vector is $installed in $url; need >= $PGVECTOR_MIN"
	PG_INFO=$(psql_url "$url" -c 'show server_version')
	VECTOR_INFO=$installed
}

ensure_postgres() {
	PRESET_URL=${TROLYAO_TEST_DATABASE:-}
	if [ -n "$PRESET_URL" ]; then
		CURRENT_STEP="postgresql client"
		note "using TROLYAO_TEST_DATABASE from the environment"
		command -v psql >/dev/null 2>&1 || apt_install postgresql-client
	else
		ensure_server
		ensure_tcp_auth
		ensure_database
		export TROLYAO_TEST_DATABASE="postgres://postgres@127.0.0.1:${PGPORT_TEST}/${TEST_DB}?sslmode=disable"
	fi
	ensure_extensions
}

# --------------------------------------------------------------- browser ----

# ensure_chromium installs Debian's chromium for the browser tests (the files
# named *browser*_test.go, and internal/browsertest), or always with
# TROLYAO_BROWSER_TESTS=1; the tests find the binary in TROLYAO_CHROMIUM.
# (Running as root, Chromium needs --no-sandbox; internal/browsertest sets it.)
ensure_chromium() {
	CURRENT_STEP="chromium"
	if [ "${TROLYAO_BROWSER_TESTS:-}" != 1 ] && [ ! -d "$ROOT/internal/browsertest" ] &&
		[ -z "$(find "$ROOT" -name '*browser*_test.go' -not -path '*/.*' -print -quit)" ]; then
		return 0
	fi
	command -v chromium >/dev/null 2>&1 || apt_install chromium
	TROLYAO_CHROMIUM=$(command -v chromium) || die "chromium not found after installing it"
	export TROLYAO_CHROMIUM
	note "chromium: $TROLYAO_CHROMIUM"
}

# ---------------------------------------------------------------- checks ----

# step NAME CMD...: runs one check, records it, stops on failure.
step() {
	local name=$1 start rc=0
	shift
	CURRENT_STEP=$name
	say "$name"
	start=$SECONDS
	"$@" || rc=$?
	if [ "$rc" -ne 0 ]; then
		SUMMARY+=("FAIL  $name")
		die "exit status $rc"
	fi
	SUMMARY+=("ok    $name ($((SECONDS - start))s)")
}

check_gofmt() {
	local files
	# Skip what ./... skips (directories named .* _* testdata) and vendored code.
	files=$(find . -type d \( -name '.?*' -o -name '_*' -o -name testdata -o -name node_modules -o -name vendor \) -prune -o \
		-name '*.go' -type f -print | sort | xargs -r "$GOFMT" -l)
	if [ -n "$files" ]; then
		printf 'gofmt wants to reformat:\n%s\n(run: gofmt -w <files>)\n' "$files" >&2
		return 1
	fi
}

check_deps() {
	local d pkgs=() list bad mod
	for d in knowledge knowledge/units assistant ingest; do
		if [ -d "$d" ] && [ -n "$(find "$d" -maxdepth 1 -name '*.go' ! -name '*_test.go' -print -quit)" ]; then
			pkgs+=("./$d")
		fi
	done
	if [ "${#pkgs[@]}" -eq 0 ]; then
		note "no domain packages yet"
		return 0
	fi
	note "go list -deps ${pkgs[*]} | grep -E 'pgx|langchaingo|gorilla'"
	list=$(go list -deps "${pkgs[@]}") || return 1
	bad=$(grep -E 'pgx|langchaingo|gorilla' <<<"$list" || true)
	if [ -n "$bad" ]; then
		printf 'domain packages must not depend on drivers, langchaingo or gorilla:\n%s\n' "$bad" >&2
		return 1
	fi
	# Data flows one way: channels → assistant → knowledge ← ingest. Each domain package may depend only on
	# the packages to its right.
	mod=$(go list -m) || return 1
	for d in "${pkgs[@]}"; do
		case $d in
		./knowledge*) bad='assistant|ingest|channels|staff|cmd' ;;
		./assistant) bad='ingest|channels|staff|cmd' ;;
		./ingest) bad='assistant|channels|staff|cmd' ;;
		esac
		note "go list -deps $d | grep -E '^$mod/($bad)(/|\$)'"
		list=$(go list -deps "$d") || return 1
		list=$(grep -E "^$mod/($bad)(/|\$)" <<<"$list" || true)
		if [ -n "$list" ]; then
			printf '%s must not depend on:\n%s\n' "$d" "$list" >&2
			return 1
		fi
	done
}

run_checks() {
	cd "$ROOT"
	step "go mod download" go mod download
	step "gofmt" check_gofmt
	step "go vet" go vet ./...
	step "dependency direction" check_deps
	step "go build" go build ./...
	# Browser tests save screenshots with t.ArtifactDir(); -artifacts keeps them under artifacts/_artifacts.
	mkdir -p "$ROOT/artifacts"
	# TestReadmeRunIt, the attack suite (TestAttack), the fault suite (TestFault…) and the tests of
	# a second or restarted process drive separate processes (go run, go build, the built binary, curl; serve
	# processes), whose races the detector does not report to the test; TestPostgresParityAndEval evaluates the
	# whole bank twice on one goroutine. Under -race they took about ten minutes of the two cores; they run once
	# each, without it, in the steps below.
	step "go test -race" go test -race -count=1 -timeout "${TROLYAO_TEST_TIMEOUT:-20m}" \
		-skip "^($PROCESS_TESTS|TestPostgresParityAndEval|TestPostgresSecondProcess)\$" \
		-artifacts -outputdir "$ROOT/artifacts" ./...
	# Under the race detector the single-goroutine whole-catalog tests check every fifth record
	# (internal/racetest); here they check every record, without it.
	step "whole-catalog tests" go test -count=1 -timeout "${TROLYAO_TEST_TIMEOUT:-20m}" \
		-run 'WholeCatalog|TestProperty' ./assistant/
	step "README examples" go test -count=1 -timeout "${TROLYAO_TEST_TIMEOUT:-20m}" \
		-run '^TestReadmeRunIt$' ./cmd/trolyao/
	# The attack suite: floods, brute force, hostile frames, forged webhooks, staff calls without rights,
	# against a serve process (about 40 s); and the fault suite (about 2 minutes): serve killed with SIGKILL
	# during a staff publish, which must be whole or not at all after a restart, during its first ingest and
	# during a Zalo burst; PostgreSQL (a private server, initdb in a temporary directory) crashed and
	# restarted under chat and webhook load; the disk full under chat and a staff save.
	step "attack and fault suites" go test -count=1 -timeout 8m -run '^(TestAttack|TestFault.*)$' ./cmd/trolyao/
	step "process tests" go test -count=1 -timeout "${TROLYAO_TEST_TIMEOUT:-20m}" \
		-run '^(TestPublishReachesSecondProcess|TestCentreCorrectionSurvivesRestart|TestStartersReachSecondProcess|TestMostAskedStarters|TestMostAskedStartersPostgres|TestPostgresParityAndEval|TestPostgresSecondProcess)$' \
		./cmd/trolyao/ ./staff/
}

# PROCESS_TESTS are the tests that drive serve (or the test binary) as separate processes.
PROCESS_TESTS='TestReadmeRunIt|TestAttack|TestFault.*|TestPublishReachesSecondProcess|TestCentreCorrectionSurvivesRestart|TestStartersReachSecondProcess|TestMostAskedStarters|TestMostAskedStartersPostgres'

print_summary() {
	local rc=$? line
	[ "${#SUMMARY[@]}" -gt 0 ] || [ "$rc" -eq 0 ] || return 0
	printf '\n==== trolyao test summary ====\n'
	printf '  go:        %s\n' "$(go version 2>/dev/null || echo '?')"
	printf '  database:  %s (PostgreSQL %s, vector %s)\n' "${TROLYAO_TEST_DATABASE:-?}" "${PG_INFO:-?}" "${VECTOR_INFO:-?}"
	for line in "${SUMMARY[@]}"; do
		printf '  %s\n' "$line"
	done
	if [ -d "$ROOT/artifacts/_artifacts" ]; then
		printf '  artifacts: %s\n' "$(find "$ROOT/artifacts/_artifacts" -type f | wc -l) files under artifacts/_artifacts (screenshots of the browser tests)"
	fi
	if [ "$rc" -eq 0 ]; then
		printf '  PASS\n'
	else
		printf '  FAILED at: %s\n' "$CURRENT_STEP"
	fi
}

main() {
	: >"$LOG" 2>/dev/null || LOG=$(mktemp)
	cd "$ROOT"
	say "setup (log: $LOG)"
	ensure_go
	ensure_postgres
	note "TROLYAO_TEST_DATABASE=$TROLYAO_TEST_DATABASE (PostgreSQL $PG_INFO, vector $VECTOR_INFO)"
	ensure_chromium
	if [ ! -d "$ROOT/../shared/data" ]; then
		note "warning: ../shared/data (the catalog) is not beside the repository; tests that read it will fail or skip"
	fi
	trap print_summary EXIT
	run_checks
}

# on_err reports an unexpected failure once: in a subshell (command
# substitution) it only exits, and the caller's line is reported.
on_err() {
	[ "$BASHPID" = "$$" ] || exit 1
	die "command failed (line $1): $2"
}

if [ "${BASH_SOURCE[0]}" = "$0" ]; then
	trap 'on_err "$LINENO" "$BASH_COMMAND"' ERR
	main "$@"
fi
