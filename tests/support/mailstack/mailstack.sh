#!/usr/bin/env bash
# A private, throwaway mail stack for the integration tests: Postfix (SMTP in) hands every
# firm.test message to Dovecot over LMTP, and Dovecot serves the mailboxes over IMAP.
# Everything lives in one directory and listens on 127.0.0.1 only, so several stacks can run
# side by side and the machine's own mail setup (if any) is neither read nor changed.
#
#   mailstack.sh start [DIR]    render the configs, start both servers, print shell assignments
#   mailstack.sh stop DIR       stop both servers (DIR itself is left for the caller to remove)
#   mailstack.sh smtp-stop DIR  stop Postfix only: "SMTP is down" while the mailboxes stay readable
#   mailstack.sh smtp-start DIR start Postfix again on the same port, with its queue intact
#
# start reads MAILSTACK_SMTP_PORT, MAILSTACK_IMAP_PORT, MAILSTACK_LMTP_PORT and MAILSTACK_PASSWORD;
# any that is unset is chosen here. With MAILSTACK_OWNER_PID set, a watchdog stops the stack and
# removes DIR once that process is gone, so a killed test run leaves no root daemons behind.
# Must run as root: both masters bind as root and then drop privileges themselves.

set -euo pipefail
# Postfix and Dovecot drop to their own users and must read what is made here, whatever umask
# the caller runs with (a shell or process set to 077 would lock them out of their own queue).
umask 022

readonly HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
readonly POSTFIX=/usr/sbin/postfix
readonly DOVECOT=/usr/sbin/dovecot
readonly PORT_WAIT_SECONDS=15
readonly STOP_WAIT_SECONDS=10

die() {
  echo "mailstack: $*" >&2
  exit 1
}

usage() {
  sed -n '7,10p' "${BASH_SOURCE[0]}" | sed 's/^# *//' >&2
  exit 2
}

# Paths and the password are pasted into config files by sed, so only plain characters may pass.
check_dir() {
  [[ $1 =~ ^/[A-Za-z0-9._/-]+$ ]] || die "DIR must be an absolute path of [A-Za-z0-9._/-], got '$1'"
}

check_password() {
  [[ $1 =~ ^[A-Za-z0-9._-]+$ ]] || die "MAILSTACK_PASSWORD must be [A-Za-z0-9._-]+"
}

check_port() {
  [[ $1 =~ ^[0-9]+$ ]] && (($1 > 0 && $1 < 65536)) || die "invalid port '$1'"
}

# Node is always there when the tests run; the TS wrapper passes ports in anyway.
pick_free_port() {
  node -e 'const s=require("net").createServer();s.listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})'
}

random_password() {
  od -An -N12 -tx1 /dev/urandom | tr -d ' \n'
}

port_open() {
  (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

wait_port_open() {
  local port=$1 what=$2 deadline=$((SECONDS + PORT_WAIT_SECONDS))
  until port_open "$port"; do
    ((SECONDS < deadline)) || { echo "mailstack: $what did not open 127.0.0.1:$port" >&2; return 1; }
    sleep 0.05
  done
}

wait_port_closed() {
  local port=$1 deadline=$((SECONDS + STOP_WAIT_SECONDS))
  while port_open "$port"; do
    ((SECONDS < deadline)) || { echo "mailstack: 127.0.0.1:$port still accepts connections" >&2; return 1; }
    sleep 0.05
  done
}

render() {
  local template=$1 target=$2
  sed -e "s|@DIR@|$DIR|g" \
    -e "s|@SMTP_PORT@|$SMTP_PORT|g" \
    -e "s|@IMAP_PORT@|$IMAP_PORT|g" \
    -e "s|@LMTP_PORT@|$LMTP_PORT|g" \
    -e "s|@PASSWORD@|$PASSWORD|g" \
    -e "s|@INSTANCE@|${DIR##*/}|g" \
    "$HERE/$template" >"$target"
  # Postfix distrusts a main.cf modified within the current second and rereads it every 300 ms
  # until the second has passed; every postconf run during start-up would pay that wait.
  touch -d '1 minute ago' "$target"
}

# Postfix's data_directory is left out: post-install creates it owned by the postfix user.
prepare_dir() {
  mkdir -p "$DIR"/postfix/{etc,spool} "$DIR"/dovecot/{run,state} "$DIR/mail"
  # Dovecot's mail processes run as nobody and must reach DIR/mail through every parent.
  chmod 755 "$DIR" "$DIR/postfix" "$DIR/dovecot"
  chown nobody:nogroup "$DIR/mail"
  render postfix-main.cf.in "$DIR/postfix/etc/main.cf"
  render postfix-master.cf.in "$DIR/postfix/etc/master.cf"
  render dovecot.conf.in "$DIR/dovecot/dovecot.conf"
}

# postfix(1) writes configuration errors to the terminal only, so ask again under script(1).
explain_postfix_failure() {
  echo "--- postfix start output" >&2
  cat "$DIR/postfix/start.out" >&2 2>/dev/null || true
  echo "--- postfix check" >&2
  script -qec "$POSTFIX -c $DIR/postfix/etc check" /dev/null >&2 || true
  echo "--- tail of $DIR/postfix/maillog" >&2
  tail -n 30 "$DIR/postfix/maillog" >&2 2>/dev/null || true
}

explain_dovecot_failure() {
  echo "--- dovecot start output" >&2
  cat "$DIR/dovecot/start.out" >&2 2>/dev/null || true
  echo "--- tail of $DIR/dovecot/dovecot.log" >&2
  tail -n 30 "$DIR/dovecot/dovecot.log" >&2 2>/dev/null || true
}

start_dovecot() {
  if ! "$DOVECOT" -c "$DIR/dovecot/dovecot.conf" >"$DIR/dovecot/start.out" 2>&1 </dev/null ||
    ! wait_port_open "$IMAP_PORT" "Dovecot IMAP" || ! wait_port_open "$LMTP_PORT" "Dovecot LMTP"; then
    explain_dovecot_failure
    return 1
  fi
}

new_maillog() {
  tail -c "+$(($1 + 1))" "$DIR/postfix/maillog" 2>/dev/null
}

# Most configuration mistakes do not stop the master from starting: the daemon that reads the
# bad parameter dies with "fatal:" in the maillog instead, so look there as well. postlogd
# writes asynchronously, but smtpd logs our port probe after anything logged at start-up.
postfix_logged_fatal() {
  local since=$1 deadline=$((SECONDS + 2))
  until new_maillog "$since" | grep -q 'smtpd.* connect from'; do
    ((SECONDS < deadline)) || break
    sleep 0.02
  done
  new_maillog "$since" | grep -qE ' (fatal|panic): '
}

maillog_size() {
  stat -c %s "$DIR/postfix/maillog" 2>/dev/null || echo 0
}

start_postfix() {
  local since
  since=$(maillog_size)
  if ! "$POSTFIX" -c "$DIR/postfix/etc" start >"$DIR/postfix/start.out" 2>&1 </dev/null ||
    ! wait_port_open "$SMTP_PORT" "Postfix SMTP" || postfix_logged_fatal "$since"; then
    explain_postfix_failure
    return 1
  fi
}

read_pid() {
  local file=$1 pid
  [[ -r $file ]] || return 0
  read -r pid <"$file" || true
  echo "${pid//[[:space:]]/}"
}

postfix_pid() { read_pid "$DIR/postfix/spool/pid/master.pid"; }
dovecot_pid() { read_pid "$DIR/dovecot/run/master.pid"; }

# A pid file may outlive its process and the number may be reused; only signal a master whose
# command line or environment names this stack's directory.
belongs_to_stack() {
  local pid=$1
  [[ -n $pid && -d /proc/$pid ]] || return 1
  grep -qaF -- "$DIR/" "/proc/$pid/cmdline" "/proc/$pid/environ" 2>/dev/null
}

# Both masters lead their own process group. A child that outlived its master could still hold
# a listening socket, so stopping waits for the whole group. Zombies count as gone: they hold no
# sockets, and PID 1 in some containers is slow to reap them.
group_alive() {
  local pgid=$1 stat rest state pgrp
  for stat in /proc/[0-9]*/stat; do
    { read -r rest <"$stat"; } 2>/dev/null || continue
    rest=${rest##*) }
    read -r state _ pgrp _ <<<"$rest"
    [[ $pgrp == "$pgid" && $state != Z ]] && return 0
  done
  return 1
}

owned_pid() {
  if belongs_to_stack "$1"; then echo "$1"; fi
}

# Dovecot's whole group gets SIGTERM at once: on its own, its master keeps the log process alive
# for another second so late messages get written, which only slows down a throwaway stack.
# Postfix's master must be signalled alone: it signals its group itself and then logs through
# postlogd, and if postlogd were already gone that write could block the master for 5 s.
signal_master() {
  [[ -z $1 ]] || kill -TERM "$1" 2>/dev/null || true
}

signal_group() {
  [[ -z $1 ]] || kill -TERM -- "-$1" 2>/dev/null || true
}

wait_group_gone() {
  local pgid=$1 name=$2 deadline=$((SECONDS + STOP_WAIT_SECONDS))
  [[ -n $pgid ]] || return 0
  while group_alive "$pgid"; do
    if ((SECONDS >= deadline)); then
      echo "mailstack: $name (pid $pgid) ignored SIGTERM, killing its process group" >&2
      kill -KILL -- "-$pgid" 2>/dev/null || true
      deadline=$((SECONDS + STOP_WAIT_SECONDS))
    fi
    sleep 0.02
  done
}

stop_postfix() {
  local pid
  pid=$(owned_pid "$(postfix_pid)")
  signal_master "$pid"
  wait_group_gone "$pid" Postfix
}

load_env() {
  [[ -r $DIR/stack.env ]] || die "$DIR/stack.env not found: was the stack started with this DIR?"
  # shellcheck disable=SC1091
  source "$DIR/stack.env"
  SMTP_PORT=$MAILSTACK_SMTP_PORT
}

print_env() {
  cat <<EOF
MAILSTACK_DIR=$DIR
MAILSTACK_SMTP_PORT=$SMTP_PORT
MAILSTACK_IMAP_PORT=$IMAP_PORT
MAILSTACK_LMTP_PORT=$LMTP_PORT
MAILSTACK_PASSWORD=$PASSWORD
POSTFIX_PID=$(postfix_pid)
DOVECOT_PID=$(dovecot_pid)
EOF
}

start_watchdog() {
  local owner=$1
  [[ $owner =~ ^[0-9]+$ ]] || die "MAILSTACK_OWNER_PID must be a pid"
  # Detached and with no inherited stdio, so the caller's pipes close when start returns.
  setsid nohup bash -c '
    while kill -0 "$1" 2>/dev/null && [[ -d $2 ]]; do sleep 1; done
    if [[ -d $2 ]]; then bash "$0" stop "$2" && rm -rf -- "$2"; fi
  ' "${BASH_SOURCE[0]}" "$owner" "$DIR" >/dev/null 2>&1 </dev/null &
}

cmd_start() {
  DIR=${1:-$(mktemp -d /tmp/mst.XXXXXX)}
  check_dir "$DIR"
  SMTP_PORT=${MAILSTACK_SMTP_PORT:-$(pick_free_port)}
  IMAP_PORT=${MAILSTACK_IMAP_PORT:-$(pick_free_port)}
  LMTP_PORT=${MAILSTACK_LMTP_PORT:-$(pick_free_port)}
  PASSWORD=${MAILSTACK_PASSWORD:-$(random_password)}
  for port in "$SMTP_PORT" "$IMAP_PORT" "$LMTP_PORT"; do check_port "$port"; done
  check_password "$PASSWORD"
  ((EUID == 0)) || die "must run as root (both servers bind as root, then drop privileges)"

  prepare_dir
  if ! start_dovecot || ! start_postfix; then
    cmd_stop "$DIR" || true
    die "start failed, see above; files kept in $DIR"
  fi
  print_env >"$DIR/stack.env"
  if [[ -n ${MAILSTACK_OWNER_PID:-} ]]; then start_watchdog "$MAILSTACK_OWNER_PID"; fi
  cat "$DIR/stack.env"
}

cmd_stop() {
  DIR=${1:?usage: mailstack.sh stop DIR}
  check_dir "$DIR"
  local postfix dovecot
  postfix=$(owned_pid "$(postfix_pid)")
  dovecot=$(owned_pid "$(dovecot_pid)")
  # Both at once: the two shutdowns overlap instead of adding up.
  signal_master "$postfix"
  signal_group "$dovecot"
  wait_group_gone "$postfix" Postfix
  wait_group_gone "$dovecot" Dovecot
}

cmd_smtp_stop() {
  DIR=${1:?usage: mailstack.sh smtp-stop DIR}
  check_dir "$DIR"
  load_env
  stop_postfix
  wait_port_closed "$SMTP_PORT"
}

cmd_smtp_start() {
  DIR=${1:?usage: mailstack.sh smtp-start DIR}
  check_dir "$DIR"
  load_env
  if belongs_to_stack "$(postfix_pid)"; then die "Postfix of $DIR is already running"; fi
  start_postfix || die "Postfix did not start, see above"
  sed -i "s/^POSTFIX_PID=.*/POSTFIX_PID=$(postfix_pid)/" "$DIR/stack.env"
  echo "POSTFIX_PID=$(postfix_pid)"
}

main() {
  local cmd=${1:-}
  shift || true
  case $cmd in
    start) cmd_start "$@" ;;
    stop) cmd_stop "$@" ;;
    smtp-stop) cmd_smtp_stop "$@" ;;
    smtp-start) cmd_smtp_start "$@" ;;
    *) usage ;;
  esac
}

main "$@"
