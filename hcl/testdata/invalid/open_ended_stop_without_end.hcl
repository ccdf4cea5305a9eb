# want: 4: Open-ended experiment that never ends: num_samples = -1 keeps starting trials
experiment "forever" {
  num_samples = -1
  stop {
    trial_timeout = "10m"
  }
  task "t" {
    command = "true"
  }
}
