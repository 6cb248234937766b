# shellcheck shell=bash disable=SC2154 # sourced by tests/bench/run, which sets the knobs and helpers
# sections/sizes.bash — e: the size of every binary of build-static/bin, as
# built and stripped. Part of a full run (from sections/events.bash) or alone
# (`tests/bench/run sizes`); leaves sizes.jsonl, one line per binary.

: >"$work/sizes.jsonl"
if [[ -d $static_dir/bin ]]; then
  for f in "$static_dir"/bin/*; do
    [[ -f $f ]] || continue
    strip -o "$work/stripped" "$f" 2>/dev/null || cp "$f" "$work/stripped"
    jq -nc --arg file "$static_name/bin/${f##*/}" --argjson size "$(stat -c %s "$f")" \
      --argjson stripped "$(stat -c %s "$work/stripped")" --arg date "$(date -u +%Y-%m-%dT%H:%M:%SZ)" \
      --arg commit "$(git -C "$src" rev-parse --short HEAD)" \
      '{file: $file, size: $size, stripped: $stripped, date: $date, commit: $commit}' >>"$work/sizes.jsonl"
  done
fi
