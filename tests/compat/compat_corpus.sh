#!/usr/bin/env bash
# Real haproxy.cfg files (tests/data/compat, listed in MANIFEST as tcp or http) through the real
# `lb-agent -c -f FILE`, with the host names of HOSTS resolvable as they were for `haproxy -c`:
# every tcp file must be accepted (exit 0); every http file refused (exit 1) with an error that
# names HTTP mode. Runs in a private mount namespace where /etc/hosts is the system's plus
# HOSTS (bind-mounted; needs root and unshare, otherwise skipped with 77).
# Usage: compat_corpus.sh LB_AGENT DATA_DIR
set -uo pipefail

agent=${1:?usage: compat_corpus.sh LB_AGENT DATA_DIR}
data=${2:?usage: compat_corpus.sh LB_AGENT DATA_DIR}
agent=$(realpath "$agent") data=$(realpath "$data")

# tcp files that lb-agent -c still refuses, each with the reason, while the features they need
# are being finished. They are run and reported like the others but do not fail the test; one
# that is accepted is reported as "now accepted: remove it from EXPECTED_FAILURES".
declare -A EXPECTED_FAILURES=(
  # 'socks4 ADDR' / 'check-via-socks4' server options and 'ssl' towards servers (tolerated
  # keywords, in progress).
  [haproxy-example-socks4.cfg]="server options socks4, check-via-socks4, ssl"
  # 'http-check connect ssl' (protocol health checks, in progress).
  [kubeadm-ha-apiserver.cfg]="http-check connect ssl"
)

if [[ ${LB_COMPAT_IN_NAMESPACE:-} != 1 ]]; then
  if [[ $(id -u) != 0 ]] || ! command -v unshare >/dev/null; then
    echo "SKIP: needs root and unshare (a private mount namespace for /etc/hosts)"
    exit 77
  fi
  exec env LB_COMPAT_IN_NAMESPACE=1 unshare --mount --propagation private "$0" "$@"
fi

hosts=$(mktemp)
trap 'umount /etc/hosts 2>/dev/null; rm -f "$hosts"' EXIT
cat /etc/hosts "$data/HOSTS" >"$hosts"
mount --bind "$hosts" /etc/hosts || { echo "cannot bind-mount over /etc/hosts"; exit 1; }
getent hosts "$(awk '!/^#/ && NF >= 2 { print $2; exit }' "$data/HOSTS")" >/dev/null ||
  { echo "the names of HOSTS do not resolve in the namespace"; exit 1; }

cd "$data" || exit 1
tcp_total=0 tcp_accepted=0 http_total=0 http_refused=0 failures=0 expected=0
while read -r file class _; do
  [[ -z $file || $file == \#* ]] && continue
  [[ -f $file ]] || { echo "FAIL $file: listed in MANIFEST but missing"; ((failures++)); continue; }
  output=$("$agent" -c -f "$file" 2>&1)
  status=$?
  case $class in
    tcp)
      ((tcp_total++))
      reason=${EXPECTED_FAILURES[$file]:-}
      if [[ $status == 0 ]]; then
        ((tcp_accepted++))
        [[ -n $reason ]] && echo "NOTE $file: now accepted: remove it from EXPECTED_FAILURES"
      elif [[ -n $reason ]]; then
        ((expected++))
        echo "XFAIL $file ($reason)"
      else
        ((failures++))
        echo "FAIL $file: a tcp config, refused with exit $status:"
        sed 's/^/    /' <<<"$output"
      fi
      ;;
    http)
      ((http_total++))
      if [[ $status == 1 ]] && grep -q 'HTTP mode' <<<"$output"; then
        ((http_refused++))
      else
        ((failures++))
        echo "FAIL $file: an http config, expected exit 1 naming HTTP mode, got exit $status:"
        sed 's/^/    /' <<<"$output"
      fi
      ;;
    *)
      ((failures++))
      echo "FAIL $file: unknown class '$class' in MANIFEST"
      ;;
  esac
done <"$data/MANIFEST"

for file in "${!EXPECTED_FAILURES[@]}"; do
  grep -q "^$file tcp" "$data/MANIFEST" ||
    { echo "FAIL EXPECTED_FAILURES names $file, which is not a tcp file of MANIFEST"; ((failures++)); }
done

echo "$tcp_accepted of $tcp_total tcp configs accepted ($expected expected failures)"
echo "$http_refused of $http_total http configs refused naming HTTP mode"
((tcp_total > 0)) || { echo "FAIL: no tcp file in MANIFEST"; exit 1; }
exit $((failures > 0))
