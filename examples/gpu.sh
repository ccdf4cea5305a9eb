#!/bin/sh
# A stand-in GPU trainer: says which GPUs it was given (tune sets
# CUDA_VISIBLE_DEVICES to exactly those, empty for a CPU trial) and
# reports a loss that is better on a GPU.
#
#   sh gpu.sh LR BATCH_SIZE
lr="$1"
batch="$2"
echo "CUDA_VISIBLE_DEVICES=${CUDA_VISIBLE_DEVICES}"
speed=1
[ -n "$CUDA_VISIBLE_DEVICES" ] && speed=4
i=1
while [ "$i" -le 4 ]; do
  awk -v lr="$lr" -v b="$batch" -v i="$i" -v s="$speed" -v dev="$CUDA_VISIBLE_DEVICES" 'BEGIN {
    printf "@tune {\"val_loss\": %.6f, \"gpus\": \"%s\"}\n", 1 / (i * s * lr * b / 10 + 1), dev
  }'
  sleep 0.1
  i=$((i + 1))
done
