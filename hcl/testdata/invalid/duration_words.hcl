# want: 7: Invalid duration for trial_timeout: trial_timeout: "10 minutes" is not a duration such as "90s", "10m" or "1h30m"
experiment "slow" {
  task "train" {
    command = "python3"
  }
  stop {
    trial_timeout = "10 minutes"
  }
}
