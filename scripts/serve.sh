#!/usr/bin/env bash
# Serve the product with granian (WSGI) and run the background worker beside it.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=.venv/bin
HOST=${HOST:-127.0.0.1}
PORT=${PORT:-8000}
mkdir -p var
$BIN/python manage.py db_worker --queue-name default --no-reload >var/worker.log 2>&1 &
worker=$!
# Clock jobs: overdue applications escalate to the parent union (督办), counters are pruned.
$BIN/python manage.py periodic --loop >var/periodic.log 2>&1 &
clock=$!
trap 'kill $worker $clock 2>/dev/null || true' EXIT INT TERM
cat <<TXT

工会一网通 is running at http://$HOST:$PORT/
  职工端 (worker portal, phone + SMS code):  http://$HOST:$PORT/
  工作台 (staff console):                    http://$HOST:$PORT/console/
  API docs:                                   http://$HOST:$PORT/api/docs
Demo staff logins (password gonghui-demo):
  demo-national (中华全国总工会)   demo-guangdong (广东省总工会)   demo-shenzhen (深圳市总工会)
  demo-nanshan (南山区总工会)      demo-nantou (南头街道工会)      demo-futian (福田区总工会)
  demo-grassroots (a grassroots union in 南头街道)
SMS codes in development:  .venv/bin/python manage.py sms_outbox --phone 13800138000
Stop with Ctrl-C.

TXT
exec $BIN/granian --interface wsgi --host "$HOST" --port "$PORT" --workers "${WORKERS:-2}" \
  --blocking-threads "${THREADS:-8}" config.wsgi:application
