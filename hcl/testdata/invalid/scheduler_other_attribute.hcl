# want: 6: Unsupported argument: An argument named "grace_period" is not expected here
experiment "s" {
  metric = "loss"
  mode   = "min"
  scheduler "hyperband" {
    grace_period = 3
  }
  task "t" {
    command = "true"
  }
}
