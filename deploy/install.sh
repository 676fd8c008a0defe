#!/usr/bin/env bash
# Installs voix from this checkout as a hardened systemd service on Debian 12
# or 13, in one command:
#
#   sudo deploy/install.sh            # install or upgrade, then start voix
#   sudo deploy/install.sh --no-start # install or upgrade, start nothing
#   deploy/install.sh --print-packages
#
# Idempotent: run it again after `git pull` to upgrade; what is already in
# place stays as it is, voix restarts only when something it runs changed,
# and /etc/voix/voix.yaml and /etc/voix/nftables.nft are never overwritten.
# What it does, the files it installs and how to undo it: deploy/README.md.
set -euo pipefail

SRC=$(cd "$(dirname "$0")/.." && pwd)
. "$SRC/scripts/lib.sh"
. "$SRC/deploy/lib.sh"

# Building better-sqlite3 and voix's native addons; the prompts (text to
# speech, audio conversion); the firewall, fail2ban (pyinotify: it watches
# voix's log instead of polling it; python3-systemd: it reads sshd's log in
# the journal) and log retention.
PACKAGES=(ca-certificates python3 make g++ gcc libuv1-dev libssl-dev ffmpeg espeak-ng
  nftables fail2ban python3-pyinotify python3-systemd logrotate)

start=yes
for arg in "$@"; do
  case "$arg" in
    --no-start) start=no ;;
    --print-packages)
      echo "${PACKAGES[*]}"
      exit 0
      ;;
    -h | --help)
      sed -n '2,13p' "$0" | sed 's/^# \{0,1\}//'
      exit 0
      ;;
    *) fail "unknown option $arg (see --help)" ;;
  esac
done

require_root
[ -f /etc/debian_version ] || fail "this script installs on Debian 12 or 13 (no /etc/debian_version here)"
command -v systemctl >/dev/null 2>&1 || fail "systemd is needed (systemctl not found)"

# --- Node.js 20.19+ (package.json: ">=20.19 <21 || >=22") ---------------------

node_fits() {
  command -v node >/dev/null 2>&1 &&
    node -e 'const [a, b] = process.versions.node.split(".").map(Number); process.exit(a >= 22 || (a === 20 && b >= 19) ? 0 : 1)'
}

debian_version_fits() { # VERSION: does this Debian package version satisfy the range?
  { dpkg --compare-versions "$1" ge 20.19 && dpkg --compare-versions "$1" lt 21; } || dpkg --compare-versions "$1" ge 22
}

ensure_node() {
  if node_fits; then
    say "Node.js $(node --version) ($(command -v node))"
  else
    apt-get update -qq
    local candidate
    candidate=$(apt-cache policy nodejs 2>/dev/null | awk '/Candidate:/ {print $2}')
    if [ -n "$candidate" ] && [ "$candidate" != "(none)" ] && debian_version_fits "$candidate"; then
      # Debian 13 ships Node.js 20.19; Debian's npm is a package of its own.
      say "Installing Node.js $candidate from the Debian archive"
      install_packages nodejs
    else
      local found="none"
      command -v node >/dev/null 2>&1 && found="$(node --version) at $(command -v node)"
      fail "voix needs Node.js 20.19 or later (20.x from 20.19, or 22 and later); found: $found.
This system's archive offers nodejs ${candidate:-(none)} (Debian 12 ships 18).
Install Node.js 20 first, for example NodeSource's package (https://github.com/nodesource/distributions:
nodejs 20.x for Debian), check with 'node --version', then run this script again."
    fi
  fi
  command -v npm >/dev/null 2>&1 || install_packages npm
  NODE=$(readlink -f "$(command -v node)")
  case "$NODE" in
    /home/* | /root/* | /tmp/*) fail "node is at $NODE, which the voix service cannot reach (ProtectHome, PrivateTmp): install Node.js system-wide (in /usr or /usr/local)" ;;
  esac
  # node-gyp (better-sqlite3) uses this Node's own headers when it ships them, instead of downloading them.
  local prefix
  prefix=$(dirname "$(dirname "$NODE")")
  if [ -z "${npm_config_nodedir:-}" ] && [ -f "$prefix/include/node/node.h" ] && [ -f "$prefix/include/node/common.gypi" ]; then
    export npm_config_nodedir="$prefix"
  fi
}

# --- Build, as the owner of the checkout ---------------------------------------

as_owner() { # COMMAND...: runs in $SRC as the user who owns the checkout, so that no root-owned file lands in it.
  local owner home
  owner=$(stat -c %U "$SRC")
  if [ "$owner" = root ]; then
    (cd "$SRC" && "$@")
  else
    home=$(getent passwd "$owner" | cut -d: -f6)
    (cd "$SRC" && runuser -u "$owner" -- env HOME="$home" "$@")
  fi
}

modules_current() {
  # npm's own record of the installed tree (written by npm ci) newer than the lock file,
  # and better-sqlite3 built for this Node (its ABI changes with Node's major version).
  [ -f "$SRC/node_modules/.package-lock.json" ] && [ "$SRC/node_modules/.package-lock.json" -nt "$SRC/package-lock.json" ] &&
    as_owner node -e "require('better-sqlite3')(':memory:').close()" >/dev/null 2>&1
}

build_current() {
  [ -f "$SRC/dist/server.js" ] && [ -f "$SRC/dist/rtp/native/udp-io.node" ] && [ -f "$SRC/dist/srtp/native/srtp-crypto.node" ] &&
    [ -z "$(cd "$SRC" && find src scripts/build-native.sh package.json package-lock.json tsconfig.json tsconfig.build.json -newer dist/server.js -print -quit)" ]
}

build_voix() {
  if modules_current; then
    say "npm dependencies up to date"
  else
    say "Installing npm dependencies (npm ci; compiles better-sqlite3, a few minutes)"
    as_owner npm ci --no-audit --no-fund
  fi
  if build_current; then
    say "voix build up to date"
  else
    say "Building voix (npm run build)"
    as_owner npm run build
  fi
}

# --- /opt/voix: the build and its production dependencies ---------------------

tree_stamp() {
  (
    cd "$SRC"
    find dist schema -type f -print0 | sort -z | xargs -0 sha256sum
    sha256sum package.json package-lock.json deploy/README.md
    node --version
  ) | sha256sum | cut -d' ' -f1
}

install_tree() { # sets tree_changed
  local stamp staging
  stamp=$(tree_stamp)
  tree_changed=no
  if [ -f "$PREFIX/.install-stamp" ] && [ "$(cat "$PREFIX/.install-stamp")" = "$stamp" ]; then
    say "$PREFIX up to date"
    return
  fi
  say "Installing voix into $PREFIX"
  staging="$PREFIX.new"
  rm -rf "$staging"
  mkdir -p "$staging"
  cp -a "$SRC/dist" "$SRC/schema" "$SRC/package.json" "$SRC/package-lock.json" "$SRC/node_modules" "$staging/"
  mkdir -p "$staging/deploy"
  cp -a "$SRC/deploy/README.md" "$staging/deploy/"
  (cd "$staging" && npm prune --omit=dev --offline --no-audit --no-fund --loglevel=error >/dev/null)
  find "$staging/node_modules" -mindepth 1 -type d -empty -delete
  chown -R root:root "$staging"
  chmod -R go-w "$staging"
  echo "$stamp" >"$staging/.install-stamp"
  if [ -e "$PREFIX" ]; then
    rm -rf "$PREFIX.old"
    mv "$PREFIX" "$PREFIX.old"
  fi
  mv "$staging" "$PREFIX"
  rm -rf "$PREFIX.old"
  ln -sfn "$PREFIX/dist/cli/voix.js" "$CLI_LINK"
  tree_changed=yes
}

# --- Files: a changed file is reported, so that the caller knows what to restart -

# put_file SOURCE DEST MODE OWNER:GROUP [keep]: installs SOURCE as DEST; with
# "keep", an existing DEST is left alone (a file the operator edits). Returns 0
# when DEST was written, 1 when it already held that content or was kept.
put_file() {
  local source=$1 dest=$2 mode=$3 owner=$4 keep=${5:-}
  if [ -e "$dest" ]; then
    if cmp -s "$source" "$dest"; then
      chmod "$mode" "$dest"
      chown "$owner" "$dest"
      return 1
    fi
    if [ "$keep" = keep ]; then
      say "$dest kept as it is (it differs from the one this version ships: $source)"
      return 1
    fi
  fi
  install -m "$mode" -o "${owner%%:*}" -g "${owner##*:}" "$source" "$dest"
  say "Wrote $dest"
  return 0
}

# --- The steps ---------------------------------------------------------------------

ensure_node
install_packages "${PACKAGES[@]}"
build_voix
install_tree

if ! getent group "$SERVICE_USER" >/dev/null; then
  groupadd --system "$SERVICE_USER"
fi
if ! getent passwd "$SERVICE_USER" >/dev/null; then
  say "Creating the system user $SERVICE_USER"
  useradd --system --gid "$SERVICE_USER" --home-dir "$DATA_DIR" --no-create-home \
    --shell /usr/sbin/nologin --comment "voix SIP server" "$SERVICE_USER"
fi

# The configuration is root's, readable by the service; the data are the service's.
install -d -m 0750 -o root -g "$SERVICE_USER" "$CONF_DIR" "$CONF_DIR/tls"
install -d -m 0750 -o "$SERVICE_USER" -g "$SERVICE_USER" "$DATA_DIR"
install -d -m 0750 -o root -g adm "$LOG_DIR"
if [ ! -e "$LOG_DIR/voix.log" ]; then
  install -m 0640 -o root -g adm /dev/null "$LOG_DIR/voix.log"
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

config_changed=no
if [ ! -e "$CONF_DIR/voix.yaml" ]; then
  sed "s/@DOMAIN@/$(hostname)/" "$SRC/deploy/voix.yaml" >"$work/voix.yaml"
  put_file "$work/voix.yaml" "$CONF_DIR/voix.yaml" 0640 "root:$SERVICE_USER" keep && config_changed=yes
fi
# Checked as the service will read it: as its user.
say "Checking $CONF_DIR/voix.yaml"
runuser -u "$SERVICE_USER" -- "$NODE" "$PREFIX/dist/cli/voix.js" check --config "$CONF_DIR/voix.yaml" ||
  fail "$CONF_DIR/voix.yaml has errors (above): fix them, then run this script again; voix was not (re)started"

firewall_changed=no
put_file "$SRC/deploy/nftables.nft" "$CONF_DIR/nftables.nft" 0640 root:root keep && firewall_changed=yes
nft -c -f "$CONF_DIR/nftables.nft" || fail "$CONF_DIR/nftables.nft is refused by nft (above)"

units_changed=no
sed "s|@NODE@|$NODE|" "$SRC/deploy/voix.service" >"$work/voix.service"
put_file "$work/voix.service" "$UNIT_DIR/voix.service" 0644 root:root && units_changed=yes
put_file "$SRC/deploy/voix-firewall.service" "$UNIT_DIR/voix-firewall.service" 0644 root:root && { units_changed=yes; firewall_changed=yes; }
systemd-analyze verify "$UNIT_DIR/voix-firewall.service" "$UNIT_DIR/voix.service" ||
  fail "systemd-analyze refuses the units (above)"

put_file "$SRC/deploy/logrotate-voix" "$LOGROTATE_FILE" 0644 root:root || true

fail2ban_changed=no
put_file "$SRC/deploy/fail2ban/filter-voix.conf" "${FAIL2BAN_FILES[0]}" 0644 root:root && fail2ban_changed=yes
put_file "$SRC/deploy/fail2ban/jail-voix.conf" "${FAIL2BAN_FILES[1]}" 0644 root:root && fail2ban_changed=yes
if ! fail2ban-client --test >"$work/fail2ban-test" 2>&1; then
  # Debian 12 has no /var/log/auth.log (no rsyslog): its sshd jail, enabled by
  # default, finds no log and fail2ban does not start at all, voix's jail with
  # it. sshd logs to the journal: read it there.
  if grep -q "Have not found any log file for sshd jail" "$work/fail2ban-test"; then
    printf '%s\n' "# Written by voix's deploy/install.sh: Debian 12 has no /var/log/auth.log, so" \
      "# fail2ban's default sshd jail found no log and fail2ban did not start. sshd's" \
      "# log is in the journal. Remove this file if you install rsyslog." \
      "[sshd]" "backend = systemd" >"$work/sshd-journal.conf"
    put_file "$work/sshd-journal.conf" /etc/fail2ban/jail.d/sshd-journal.conf 0644 root:root && fail2ban_changed=yes
  fi
  fail2ban-client --test >"$work/fail2ban-test" 2>&1 || {
    cat "$work/fail2ban-test" >&2
    fail "fail2ban's configuration is refused (above)"
  }
fi

systemd_running && systemctl daemon-reload
systemctl enable --quiet fail2ban "${UNITS[@]}"
if ! systemd_running; then
  say "systemd is not running here (a chroot or a container): units installed and enabled, nothing started"
elif [ "$start" = no ]; then
  say "--no-start: voix not started (systemctl start voix)"
else
  if [ "$firewall_changed" = yes ] || ! systemctl is-active --quiet voix-firewall; then
    systemctl restart voix-firewall
  fi
  if [ "$fail2ban_changed" = yes ] || ! systemctl is-active --quiet fail2ban; then
    systemctl restart fail2ban
  fi
  if [ "$tree_changed$units_changed$config_changed" != nonono ] || ! systemctl is-active --quiet voix; then
    say "Starting voix"
    systemctl restart voix
  fi
  # Bounded: `voix status` answers 0 once voix has started serving (it records itself after its listeners are up).
  running=no
  for _ in $(seq 1 100); do
    systemctl is-active --quiet voix || break
    if runuser -u "$SERVICE_USER" -- "$NODE" "$PREFIX/dist/cli/voix.js" status --config "$CONF_DIR/voix.yaml" >/dev/null 2>&1; then
      running=yes
      break
    fi
    sleep 0.2
  done
  if [ "$running" != yes ]; then
    systemctl status --no-pager voix >&2 || true
    fail "voix did not start (above; journalctl -u voix, $LOG_DIR/voix.log)"
  fi
  say "voix is running"
fi

cat <<EOF

voix is installed.
  configuration  $CONF_DIR/voix.yaml (add phones: voix user add 1001 --name "Alice Martin"; then voix reload)
  data           $DATA_DIR (the TLS authority phones must trust: $DATA_DIR/tls/ca.crt, created at first start)
  event log      $LOG_DIR/voix.log (fail2ban jail voix; kept 180 days)
  service        systemctl status voix; journalctl -u voix
  firewall       $CONF_DIR/nftables.nft (table inet voix); open 5060/udp+tcp, 5061/tcp, 10000-20000/udp in yours
EOF
