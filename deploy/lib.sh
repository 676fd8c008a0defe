# Shared by deploy/install.sh and deploy/uninstall.sh: where voix is
# installed (uninstall.sh removes exactly these), messages, and whether
# systemd runs.

PREFIX=/opt/voix
CONF_DIR=/etc/voix
DATA_DIR=/var/lib/voix
LOG_DIR=/var/log/voix
UNIT_DIR=/etc/systemd/system
CLI_LINK=/usr/local/bin/voix
SERVICE_USER=voix
UNITS=(voix-firewall.service voix.service)
FAIL2BAN_FILES=(/etc/fail2ban/filter.d/voix.conf /etc/fail2ban/jail.d/voix.conf)
LOGROTATE_FILE=/etc/logrotate.d/voix

say() { printf '==> %s\n' "$*"; }

fail() { # MESSAGE: to stderr, prefixed with the script's name; exit code 2 (the user's to fix).
  printf '%s: %s\n' "$(basename "$0")" "$*" >&2
  exit 2
}

require_root() {
  [ "$(id -u)" -eq 0 ] || fail "run it as root: sudo $0"
}

# systemd runs as init (not in a chroot or a container without it): units can be started and stopped.
systemd_running() { [ -d /run/systemd/system ]; }
