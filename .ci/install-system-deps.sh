#!/usr/bin/env bash
# Installs the Debian packages the test suites need and a fresh machine lacks: Postfix and Dovecot
# for the private mail stack, Chromium for the browser tests. Does nothing when all are present.
# Services are never started here: the suites start private instances from a temp dir.
set -euo pipefail

packages=(postfix dovecot-core dovecot-imapd dovecot-lmtpd chromium)
missing=()
for package in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q 'install ok installed' || missing+=("$package")
done
[ ${#missing[@]} -eq 0 ] && exit 0

echo "installing: ${missing[*]}"
sudo=()
[ "$(id -u)" -eq 0 ] || sudo=(sudo)
export DEBIAN_FRONTEND=noninteractive
# Postfix asks how mail should be configured; the suites bring their own configuration.
echo 'postfix postfix/main_mailer_type select No configuration' | "${sudo[@]}" debconf-set-selections
echo "postfix postfix/mailname string $(hostname -f 2>/dev/null || hostname)" | "${sudo[@]}" debconf-set-selections
"${sudo[@]}" apt-get update -qq
"${sudo[@]}" apt-get install -y -qq "${missing[@]}" >/dev/null
