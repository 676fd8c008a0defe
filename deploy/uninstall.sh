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
. "$(dirname "$0")/lib.sh"

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
require_root

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
for unit in "${UNITS[@]}"; do
  if [ -e "$UNIT_DIR/$unit" ]; then
    if systemd_running; then
      systemctl disable --now --quiet "$unit" || true
    else
      systemctl disable --quiet "$unit" || true
    fi
    say "Disabled $unit"
  fi
done
for unit in "${UNITS[@]}"; do remove "$UNIT_DIR/$unit" "$UNIT_DIR/$unit.d"; done
systemd_running && systemctl daemon-reload

fail2ban_changed=no
for file in "${FAIL2BAN_FILES[@]}"; do
  if [ -e "$file" ]; then
    remove "$file"
    fail2ban_changed=yes
  fi
done
if [ "$fail2ban_changed" = yes ] && systemd_running && systemctl is-active --quiet fail2ban; then
  systemctl reload fail2ban || systemctl restart fail2ban
fi

remove "$LOGROTATE_FILE" "$CLI_LINK" "$PREFIX" "$PREFIX.new" "$PREFIX.old"

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
