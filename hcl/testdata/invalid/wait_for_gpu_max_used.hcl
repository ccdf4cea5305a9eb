# want: 7: Invalid value for max_used: max_used is the fraction of GPU memory that may still be in use, between 0 and 1; got 2
experiment "gpus" {
  task "train" {
    command = "python3"
  }
  wait_for_gpu {
    max_used = 2
  }
}
