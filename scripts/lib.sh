# Shared by scripts/demo.sh and scripts/test.sh: root or sudo, Node check, Debian packages.

as_root() {
  if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi
}

require_node() {
  if ! command -v node >/dev/null 2>&1; then
    echo "voix needs Node.js 20 or later: install it first (see README.md)." >&2
    exit 2
  fi
  local major
  major=$(node -p 'process.versions.node.split(".")[0]')
  if [ "$major" -lt 20 ]; then
    echo "voix needs Node.js 20 or later; found $(node --version)." >&2
    exit 2
  fi
  # Debian packages npm apart from nodejs.
  command -v npm >/dev/null 2>&1 || install_packages npm
}

# install_packages PKG... : installs the Debian packages that are not installed yet.
install_packages() {
  local missing=()
  local pkg
  for pkg in "$@"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed' || missing+=("$pkg")
  done
  if [ "${#missing[@]}" -gt 0 ]; then
    echo "Installing Debian packages: ${missing[*]}"
    as_root apt-get update -qq
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"
  fi
}

# The npm dependencies, exactly as locked; better-sqlite3 is compiled here when no prebuilt binary fits.
install_node_modules() {
  npm ci --no-audit --no-fund
}
