# want: 6: Invalid asha scheduler: max_t (4) must be greater than grace_period (8)
experiment "s" {
  metric = "loss"
  mode   = "min"
  scheduler "asha" {
    max_t        = 4
    grace_period = 8
  }
  task "t" {
    command = "true"
  }
}
