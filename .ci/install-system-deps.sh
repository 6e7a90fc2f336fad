#!/usr/bin/env bash
# Installs the Debian 12 packages the test suite needs besides Node: Postfix and Dovecot for the
# private mail stack (tests/support/mailstack), Chromium for the end-to-end tests, Poppler
# (pdftoppm, pdftotext) with the DejaVu, Droid fallback (CJK) and Symbola fonts the evidence
# transcripts are written in, and Prometheus for its promtool, which checks and unit-tests the
# alerting rules in docs/alerts (no Prometheus server is started).
# Idempotent and fast when everything is present: it only asks dpkg, and touches apt only for
# what is missing. Needs root (or sudo).

set -euo pipefail

readonly PACKAGES=(postfix dovecot-core dovecot-imapd dovecot-lmtpd chromium poppler-utils fonts-dejavu-core fonts-droid-fallback fonts-symbola)
# Installed without their recommends: prometheus would bring a node exporter nothing here uses.
readonly LEAN_PACKAGES=(prometheus)
readonly POLICY=/usr/sbin/policy-rc.d

as_root() {
  if ((EUID == 0)); then "$@"; else sudo "$@"; fi
}

installed() {
  [[ $(dpkg-query -W -f='${Status}' "$1" 2>/dev/null) == 'install ok installed' ]]
}

missing_packages() {
  local package
  for package in "${PACKAGES[@]}" "${LEAN_PACKAGES[@]}"; do
    installed "$package" || echo "$package"
  done
}

# Without answers Postfix's postinst asks which kind of mail server this is. "No configuration"
# also leaves /etc/postfix/main.cf unwritten: the tests bring their own configuration.
preseed_postfix() {
  as_root debconf-set-selections <<'EOF'
postfix postfix/main_mailer_type select No configuration
postfix postfix/mailname string wa-bridge.test
EOF
}

# The tests start private instances on loopback ports; system daemons started by the package
# scripts would only hold ports 25 and 143 and read /etc. A policy-rc.d that answers 101 makes
# invoke-rc.d skip every start. An existing one (as in containers) is left alone.
forbid_service_starts() {
  [[ ! -e $POLICY ]] || return 0
  printf '#!/bin/sh\n# Temporary, from .ci/install-system-deps.sh\nexit 101\n' | as_root tee "$POLICY" >/dev/null
  as_root chmod 755 "$POLICY"
  trap 'as_root rm -f "$POLICY"' EXIT
}

main() {
  local missing
  mapfile -t missing < <(missing_packages)
  if ((${#missing[@]} == 0)); then
    echo "install-system-deps: ${PACKAGES[*]} ${LEAN_PACKAGES[*]} already installed"
    return 0
  fi
  echo "install-system-deps: installing ${missing[*]}"
  preseed_postfix
  forbid_service_starts
  as_root env DEBIAN_FRONTEND=noninteractive apt-get update
  local package with=() without=()
  for package in "${missing[@]}"; do
    if [[ " ${LEAN_PACKAGES[*]} " == *" $package "* ]]; then without+=("$package"); else with+=("$package"); fi
  done
  # Recommends stay on: they bring the fonts Chromium renders with on the reference machines.
  if ((${#with[@]} > 0)); then as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y "${with[@]}"; fi
  if ((${#without[@]} > 0)); then as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${without[@]}"; fi
}

main "$@"
