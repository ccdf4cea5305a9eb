# want: 9: HyperBand needs a trial count: The hyperband scheduler divides a known number of trials
experiment "bands" {
  metric      = "loss"
  mode        = "min"
  num_samples = -1
  stop {
    time_budget = "1h"
  }
  scheduler "hyperband" {
    max_t = 9
  }
  task "t" {
    command = "true"
  }
}
