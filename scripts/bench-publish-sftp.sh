#!/usr/bin/env bash
# Publish to SFTP, end to end: a 1,000-file version to an OpenSSH server that
# the benchmark starts on 127.0.0.1 (temporary host key, authorized key and
# client home), then seven publishes after a one-page edit each.
# Target (issue #16): the publish after a one-page edit under one second.
#
# Usage: scripts/bench-publish-sftp.sh
# Needs: /usr/sbin/sshd and ssh-keygen (apt-get install openssh-server).
set -euo pipefail
cd "$(dirname "$0")/.."
if [ ! -x /usr/sbin/sshd ]; then
  echo "needs /usr/sbin/sshd: apt-get install openssh-server" >&2
  exit 2
fi
exec cargo bench --bench publish_sftp
