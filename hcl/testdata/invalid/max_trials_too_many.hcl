# want: 5: Invalid value for max_trials: max_trials must be between 1 and 250000; got 300000
experiment "huge" {
  num_samples = -1
  stop {
    max_trials = 300000
  }
  task "t" {
    command = "true"
  }
}
