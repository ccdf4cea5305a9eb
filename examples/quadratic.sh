#!/bin/sh
# A stand-in trainable that needs nothing but a POSIX shell and awk: it
# "trains" for a few steps and reports the loss of a quadratic in x, which
# improves with every step at a speed set by lr.
#
#   sh quadratic.sh X LR [STEPS]
x="$1"
lr="$2"
steps="${3:-5}"
i=1
while [ "$i" -le "$steps" ]; do
  awk -v x="$x" -v lr="$lr" -v i="$i" 'BEGIN {
    loss = (x - 1.5) ^ 2 + 1 / (i * lr * 1000 + 1)
    printf "@tune {\"loss\": %.6f, \"step\": %d}\n", loss, i
  }'
  sleep 0.1
  i=$((i + 1))
done
