# want: 5: Unknown scheduler: "ashaa" is not a scheduler; use "asha", "hyperband" or "median" (did you mean "asha"?)
experiment "s" {
  metric = "loss"
  mode   = "min"
  scheduler "ashaa" {}
  task "t" {
    command = "true"
  }
}
