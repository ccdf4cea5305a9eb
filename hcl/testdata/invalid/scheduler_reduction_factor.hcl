# want: 6: Invalid value for reduction_factor: reduction_factor must be greater than 1
experiment "s" {
  metric = "loss"
  mode   = "min"
  scheduler "hyperband" {
    reduction_factor = 1
  }
  task "t" {
    command = "true"
  }
}
