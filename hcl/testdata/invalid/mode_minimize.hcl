# want: 4: Invalid value for mode: mode must be one of "min", "max"; got "minimize" (did you mean "min"?)
experiment "mode" {
  metric = "loss"
  mode   = "minimize"
  task "train" {
    command = "python3"
  }
}
