#!/usr/bin/env bash
# naive-events.sh — the baseline fracta-events is measured against: the events
# provider as a shell script over a JSONL file, the way one would write it in
# an afternoon (and roughly how simple exec providers are written).
#
#   NAIVE_EVENTS_FILE=/path/events.jsonl naive-events.sh record  < event.json
#   NAIVE_EVENTS_FILE=/path/events.jsonl naive-events.sh latest-seq
#
# record: seq = last line's seq + 1 (tail -n1 | jq), ts filled with date when
# missing or empty, the line built with jq and appended. latest-seq: the last
# line's seq. No locking (two concurrent records can share a seq), no zero-ts
# parsing, no watch — each of those would only make it slower.
set -euo pipefail

file=${NAIVE_EVENTS_FILE:?set NAIVE_EVENTS_FILE to the JSONL file}

case ${1:-} in
record)
  event=$(cat)
  last=0
  if [[ -s $file ]]; then last=$(tail -n1 "$file" | jq .seq); fi
  ts=$(date -u +%Y-%m-%dT%H:%M:%S.%NZ)
  jq -c --argjson seq $((last + 1)) --arg ts "$ts" \
    '.seq = $seq | if (.ts // "") == "" then .ts = $ts else . end' <<<"$event" >>"$file"
  ;;
latest-seq)
  if [[ -s $file ]]; then tail -n1 "$file" | jq .seq; else echo 0; fi
  ;;
*)
  echo "naive-events.sh: error: unknown operation '${1:-}'" >&2
  exit 2
  ;;
esac
