# want: 6: Invalid value for grace_period: grace_period must be 0 or more; got -1
experiment "s" {
  metric = "loss"
  mode   = "min"
  scheduler "median" {
    grace_period = -1
  }
  task "t" {
    command = "true"
  }
}
