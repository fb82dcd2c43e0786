#!/bin/sh
# Makes the broker's password file, deploy/mosquitto/passwd: the daemon's account
# (hinge-edge, may publish under hinge/) and one read-only account per display named on
# the command line. Passwords are random, stored only as PBKDF2-SHA512 hashes in passwd,
# and printed once; the daemon's is also written to deploy/.env as HINGE_MQTT_PASSWORD,
# which compose.yaml hands to the daemon as HINGE_EDGE_MQTT__PASSWORD.
#
#   deploy/mosquitto/make-passwd.sh display-1 display-2
#
# Re-running it makes a new file: every account gets a new password, so restart both
# services and update the displays. To add one display without touching the others:
#   mosquitto_passwd deploy/mosquitto/passwd display-3     (asks for the password)
# then `docker compose restart mosquitto`.
#
# mosquitto_passwd comes from the host (Debian/Raspberry Pi OS: apt install mosquitto)
# or, failing that, from the broker image through docker.
set -eu

here=$(cd "$(dirname "$0")" && pwd)
deploy=$(dirname "${here}")
passwd_file="${here}/passwd"
env_file="${deploy}/.env"
broker_image="eclipse-mosquitto:2.0.20"
daemon_user="hinge-edge"

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

for name in "$@"; do
  case "${name}" in
    "${daemon_user}") echo "${daemon_user} is the daemon's account; pick another name" >&2; exit 2 ;;
    *[!A-Za-z0-9_-]* | "") echo "account names use A-Z a-z 0-9 _ - only: ${name}" >&2; exit 2 ;;
  esac
done

umask 077
: >"${passwd_file}"
daemon_password=$(random_password)
add_account "${daemon_user}" "${daemon_password}"
printf 'HINGE_MQTT_PASSWORD=%s\n' "${daemon_password}" >"${env_file}"
echo "${daemon_user}: password written to ${env_file}"
for name in "$@"; do
  password=$(random_password)
  add_account "${name}" "${password}"
  echo "${name}: ${password}   (read-only: subscribe to hinge/#)"
done

# The broker (uid 1883 in the eclipse-mosquitto image) must read the file; nobody else.
chmod 0640 "${passwd_file}"
if [ "$(id -u)" = 0 ]; then
  chown 1883:1883 "${passwd_file}"
else
  echo "now run: sudo chown 1883:1883 ${passwd_file}" >&2
fi
echo "wrote ${passwd_file} ($((1 + $#)) accounts)"
