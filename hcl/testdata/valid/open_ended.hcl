# Random search that keeps sampling until an hour has passed or 500
# trials were started, whichever comes first.
experiment "open" {
  metric      = "loss"
  mode        = "min"
  num_samples = -1
  stop {
    time_budget = "1h"
    max_trials  = 500
  }
  scheduler "asha" {
    max_t = 9
  }
  space {
    lr = loguniform(1e-4, 1e-1)
  }
  task "t" {
    command = "true"
  }
}
