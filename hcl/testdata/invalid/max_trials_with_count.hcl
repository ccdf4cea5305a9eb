# want: 5: max_trials without num_samples = -1: max_trials ends an open-ended experiment (num_samples = -1); this one runs num_samples = 8 times the grid
experiment "counted" {
  num_samples = 8
  stop {
    max_trials = 100
  }
  task "t" {
    command = "true"
  }
}
