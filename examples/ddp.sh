#!/bin/sh
# A stand-in for a distributed trainer: every rank works, rank 0 reports
# for the trial (as in Ray Train). tune sets TUNE_RANK and TUNE_WORLD_SIZE.
#
#   sh ddp.sh LR
rank="${TUNE_RANK:-0}"
world="${TUNE_WORLD_SIZE:-1}"
lr="$1"
i=1
while [ "$i" -le 3 ]; do
  if [ "$rank" = 0 ]; then
    awk -v lr="$lr" -v i="$i" -v w="$world" 'BEGIN {
      printf "@tune {\"loss\": %.6f, \"workers\": %d}\n", 1 / (i * w * lr * 100 + 1), w
    }'
  else
    echo "rank $rank of $world: step $i"
  fi
  sleep 0.2
  i=$((i + 1))
done
