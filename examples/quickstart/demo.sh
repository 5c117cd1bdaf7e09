#!/usr/bin/env bash
# Runs varde in the foreground on examples/quickstart/varde.cfg with two demo
# backends on loopback. Ctrl-C (or any exit) stops every process started here.
set -u
bin=${1:-bin}
here=$(cd "$(dirname "$0")" && pwd)
pids=()
cleanup() {
  trap - INT TERM EXIT
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done
  wait 2>/dev/null
  echo "demo: stopped varde and the demo backends"
}
trap cleanup INT TERM EXIT
"$bin/demo-backend" -listen 127.0.0.1:9001 -name app1 & pids+=($!)
"$bin/demo-backend" -listen 127.0.0.1:9002 -name app2 & pids+=($!)
# Start varde once both backends listen: as in HAProxy, a checked server's
# first failed check marks it down, and it then needs `rise` checks (4 s here)
# before it takes traffic again.
for port in 9001 9002; do
  for _ in $(seq 50); do
    (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break
    sleep 0.1
  done
done
cat <<MSG

  varde demo: frontend on http://127.0.0.1:8080/ balancing over app1 (:9001) and app2 (:9002)
  Try, in another terminal:
    curl http://127.0.0.1:8080/          # answers alternate between app1 and app2
    curl http://127.0.0.1:8080/static/x  # routed by an ACL to backend 'static'
    $bin/varde check -f examples/quickstart/varde.cfg
  Ctrl-C stops varde and both backends.

MSG
"$bin/varde" run -f "$here/varde.cfg" & pids+=($!)
wait "${pids[2]}"
