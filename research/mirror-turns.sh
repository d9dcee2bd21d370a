#!/usr/bin/env bash
# Question: does the prompted turn rule treat both directions alike, or do the dev clips' turns and talking heads read
# differently once mirrored? Every annotated clip is mirrored left-right (ffmpeg hflip; turn_left and turn_right swapped
# in its events.csv) and, as the control, re-encoded the same way without the flip (so the encoder's changes are in
# both). `regterm eval events` runs on each set; a rule without a side bias gives the mirrored set's turn_left the
# control's turn_right and the other way round. docs/turns.md has the answer.
# Run: research/mirror-turns.sh OUT_DIR [--flip] [--policy JSON] [--reseed K] DATA_DIR...
#   DATA_DIR: the annotated folders of ../shared/data (read only); the clips are built once into OUT_DIR.
#   --flip: fr_pose averaged with its reading of the mirrored face (research/flip-pose.ts); its own caches.
#   --policy: passed to eval events (the caches make a rerun take seconds).
#   --reseed K: other random (incidental) prompt times. eval events seeds them by folder and clip name, so the
#     folders are linked under the name sK-<folder>, and the caches' files likewise (run once without it first).
# Prints each set's prompted turns and both sets together.
set -euo pipefail
out=$1; shift
root=$(cd "$(dirname "$0")/.." && pwd)
eval_cmd=(node "$root/bin/regterm.js"); tag=plain; policy=(); reseed=''
while [[ $1 == --* ]]; do
  case $1 in
    --flip) eval_cmd=(npx tsx "$root/research/flip-pose.ts"); tag=flip; shift ;;
    --policy) policy=(--policy "$2"); shift 2 ;;
    --reseed) reseed=s$2; shift 2 ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
done
for kind in control mirrored; do
  filter=null; [ "$kind" = mirrored ] && filter=hflip
  for dir in "$@"; do
    dest="$out/$kind/$(basename "$dir")"
    mkdir -p "$dest"
    for csv in "$dir"/*.events.csv; do
      clip=$(basename "$csv" .events.csv)
      [ -s "$dest/$clip.mp4" ] || ffmpeg -v error -y -i "$dir/$clip.mp4" -vf "$filter" -fps_mode passthrough -an \
        -c:v libx264 -preset medium -crf 12 -pix_fmt yuv420p "$dest/$clip.mp4"
      if [ "$kind" = mirrored ]; then
        sed -e 's/,turn_left,/,TURN_SWAP,/; s/,turn_right,/,turn_left,/; s/,TURN_SWAP,/,turn_right,/' "$csv" > "$dest/$clip.events.csv"
      else
        cp "$csv" "$dest/$clip.events.csv"
      fi
    done
  done
  folders=("$out/$kind"/*); cache="$out/$kind-$tag-cache"; report="$out/$kind-$tag.json"
  if [ -n "$reseed" ]; then
    mkdir -p "$out/$reseed/$kind" "$out/$reseed/$kind-$tag-cache"
    for f in "${folders[@]}"; do ln -sfn "$f" "$out/$reseed/$kind/$reseed-$(basename "$f")"; done
    for c in "$cache"/*.json; do ln -sf "$c" "$out/$reseed/$kind-$tag-cache/$reseed-$(basename "$c")"; done
    folders=("$out/$reseed/$kind"/*); cache="$out/$reseed/$kind-$tag-cache"; report="$out/$reseed/$kind-$tag.json"
  fi
  "${eval_cmd[@]}" eval events "${folders[@]}" --cache "$cache" --json "${policy[@]}" > "$report"
done
node -e '
  const fs = require("fs");
  const sets = ["control", "mirrored"].map((k) => [k, JSON.parse(fs.readFileSync(`${process.argv[1]}/${k}-${process.argv[2]}.json`, "utf8")).prompted]);
  const count = (ps, t, k) => ps.reduce((n, p) => n + p[t][k], 0);
  const line = (name, ps) => name + ": " + ["turn_left", "turn_right"].map((t) => `${t} ${count(ps, t, "answered")}/${count(ps, t, "prompts")}` +
    ` (incidental ${count(ps, t, "incidentalPasses")}/${count(ps, t, "incidentalPrompts")})`).join(", ");
  for (const [k, p] of sets) console.log(line(k, [p]));
  console.log(line("both", sets.map(([, p]) => p)));
' "$out${reseed:+/$reseed}" "$tag"
