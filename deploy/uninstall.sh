#!/usr/bin/env bash
# Removes what deploy/install.sh installed:
#
#   sudo deploy/uninstall.sh          # the service, its units and rules; keeps the data
#   sudo deploy/uninstall.sh --purge  # also /etc/voix, /var/lib/voix, /var/log/voix and the voix user
#
# Idempotent: what is already gone is skipped. The Debian packages installed
# along (Node.js, nftables, fail2ban, ffmpeg…) stay: other software may use
# them.
set -euo pipefail

PREFIX=/opt/voix
CONF_DIR=/etc/voix
DATA_DIR=/var/lib/voix
LOG_DIR=/var/log/voix
UNIT_DIR=/etc/systemd/system
CLI_LINK=/usr/local/bin/voix
SERVICE_USER=voix

say() { printf '==> %s\n' "$*"; }
fail() {
  printf 'uninstall.sh: %s\n' "$*" >&2
  exit 2
}

purge=no
for arg in "$@"; do
  case "$arg" in
    --purge) purge=yes ;;
    -h | --help)
      sed -n '2,9p' "$0" | sed 's/^# \{0,1\}//'
      exit 0
      ;;
    *) fail "unknown option $arg (see --help)" ;;
  esac
done
[ "$(id -u)" -eq 0 ] || fail "run it as root: sudo $0"

systemd_running() { [ -d /run/systemd/system ]; }

remove() { # PATH...: removes each path that exists, saying so.
  local path
  for path in "$@"; do
    if [ -e "$path" ] || [ -L "$path" ]; then
      rm -rf "$path"
      say "Removed $path"
    fi
  done
}

# Stopping voix-firewall deletes its nftables table (ExecStop).
for unit in voix.service voix-firewall.service; do
  if [ -e "$UNIT_DIR/$unit" ]; then
    if systemd_running; then
      systemctl disable --now --quiet "$unit" || true
    else
      systemctl disable --quiet "$unit" || true
    fi
    say "Disabled $unit"
  fi
done
remove "$UNIT_DIR/voix.service" "$UNIT_DIR/voix-firewall.service" "$UNIT_DIR/voix.service.d"
systemd_running && systemctl daemon-reload

fail2ban_changed=no
for file in /etc/fail2ban/jail.d/voix.conf /etc/fail2ban/filter.d/voix.conf; do
  if [ -e "$file" ]; then
    remove "$file"
    fail2ban_changed=yes
  fi
done
if [ "$fail2ban_changed" = yes ] && systemd_running && systemctl is-active --quiet fail2ban; then
  systemctl reload fail2ban || systemctl restart fail2ban
fi

remove /etc/logrotate.d/voix "$CLI_LINK" "$PREFIX" "$PREFIX.new" "$PREFIX.old"

if [ "$purge" = yes ]; then
  remove "$CONF_DIR" "$DATA_DIR" "$LOG_DIR"
  if getent passwd "$SERVICE_USER" >/dev/null; then
    userdel "$SERVICE_USER"
    say "Removed the user $SERVICE_USER"
  fi
  if getent group "$SERVICE_USER" >/dev/null; then
    groupdel "$SERVICE_USER"
  fi
  say "voix is removed, with its configuration, data and logs"
else
  say "voix is removed; kept: $CONF_DIR (configuration), $DATA_DIR (data, TLS authority), $LOG_DIR (logs), the user $SERVICE_USER (--purge removes them)"
fi
