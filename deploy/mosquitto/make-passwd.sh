#!/bin/sh
# Makes the broker's accounts for this install: deploy/mosquitto/passwd (who may connect)
# and deploy/mosquitto/acl (what each account may do). Nothing ships with a password.
#
#   deploy/mosquitto/make-passwd.sh display-1 display-2   # every account anew
#   deploy/mosquitto/make-passwd.sh --add display-3       # one more display, others kept
#
# Accounts: the daemon's (hinge-edge) may publish under the topic prefix (events, retained
# state, its status and last will) and read nothing; one account per display named on the
# command line may read the prefix and publish nothing. mosquitto.conf sets
# use_username_as_clientid, so each account is also its own client id: no account can
# connect under another's id and throw it off, and one account holds one connection at a
# time (give each display its own).
#
# Passwords are random, stored only as PBKDF2-SHA512 hashes in passwd, and printed once;
# the daemon's is also written to deploy/.env as HINGE_MQTT_PASSWORD, which compose.yaml
# hands to the daemon as HINGE_EDGE_MQTT__PASSWORD. Re-running without --add makes new
# files: every account gets a new password, so restart both services and update the
# displays. After --add: `docker compose restart mosquitto`.
#
# The prefix is mqtt.topic_prefix of config.yaml ("hinge"); for another, set
# HINGE_TOPIC_PREFIX when running this script.
#
# mosquitto_passwd comes from the host (Debian/Raspberry Pi OS: apt install mosquitto)
# or, failing that, from the broker image through docker.
set -eu

here=$(cd "$(dirname "$0")" && pwd)
deploy=$(dirname "${here}")
passwd_file="${here}/passwd"
acl_file="${here}/acl"
env_file="${deploy}/.env"
broker_image="eclipse-mosquitto:2.0.20"
daemon_user="hinge-edge"
prefix="${HINGE_TOPIC_PREFIX:-hinge}"

random_password() {
  # 24 characters of [A-Za-z0-9]: nothing that needs quoting in YAML, .env or a shell.
  LC_ALL=C tr -dc 'A-Za-z0-9' </dev/urandom | head -c 24
}

add_account() {  # add_account USER PASSWORD: appends one hashed entry to passwd
  if command -v mosquitto_passwd >/dev/null 2>&1; then
    mosquitto_passwd -b "${passwd_file}" "$1" "$2"
  else
    docker run --rm --user "$(id -u):$(id -g)" -v "${here}:/work" "${broker_image}" \
      mosquitto_passwd -b /work/passwd "$1" "$2"
  fi
}

add_display() {  # add_display NAME: account, ACL entry (read the prefix only), password shown
  password=$(random_password)
  add_account "$1" "${password}"
  printf '\nuser %s\ntopic read %s/#\n' "$1" "${prefix}" >>"${acl_file}"
  echo "$1: ${password}   (read-only: subscribe to ${prefix}/#)"
}

adding=false
if [ "${1:-}" = "--add" ]; then
  adding=true
  shift
  [ $# -ge 1 ] || { echo "usage: $0 --add DISPLAY..." >&2; exit 2; }
fi
case "${prefix}" in
  *[!A-Za-z0-9_/-]* | "" | /* | */ | *//*)
    echo "HINGE_TOPIC_PREFIX must be topic levels of A-Z a-z 0-9 _ - joined by /: ${prefix}" >&2
    exit 2 ;;
esac
if "${adding}" && { [ ! -w "${passwd_file}" ] || [ ! -w "${acl_file}" ]; }; then
  echo "--add needs an existing, writable ${passwd_file} and ${acl_file}" >&2
  exit 2
fi
for name in "$@"; do
  case "${name}" in
    "${daemon_user}") echo "${daemon_user} is the daemon's account; pick another name" >&2; exit 2 ;;
    *[!A-Za-z0-9_-]* | "") echo "account names use A-Z a-z 0-9 _ - only: ${name}" >&2; exit 2 ;;
  esac
  if "${adding}" && grep -q "^${name}:" "${passwd_file}"; then
    echo "${name} already has an account; run without --add to renew every password" >&2
    exit 2
  fi
done

umask 077
if ! "${adding}"; then
  : >"${passwd_file}"
  cat >"${acl_file}" <<ACL
# Made by make-passwd.sh: what each broker account may do (mosquitto acl_file). Anonymous
# clients never get this far (allow_anonymous false). A publish or a delivery the ACL
# does not grant is dropped by the broker; an account not listed here may do nothing.

# The daemon: writes its events, retained state, status and last will; reads nothing.
user ${daemon_user}
topic write ${prefix}/#
ACL
  daemon_password=$(random_password)
  add_account "${daemon_user}" "${daemon_password}"
  printf 'HINGE_MQTT_PASSWORD=%s\n' "${daemon_password}" >"${env_file}"
  echo "${daemon_user}: password written to ${env_file}"
fi
for name in "$@"; do
  add_display "${name}"
done

# The broker (uid 1883 in the eclipse-mosquitto image) must read the files; nobody else.
chmod 0640 "${passwd_file}" "${acl_file}"
if [ "$(id -u)" = 0 ]; then
  chown 1883:1883 "${passwd_file}" "${acl_file}"
else
  echo "now run: sudo chown 1883:1883 ${passwd_file} ${acl_file}" >&2
fi
echo "wrote ${passwd_file} and ${acl_file} ($(grep -c '^user ' "${acl_file}") accounts)"
