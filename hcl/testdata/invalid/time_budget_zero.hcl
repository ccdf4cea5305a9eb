# want: 7: Invalid duration for time_budget: time_budget must be longer than 0; got "0s"
experiment "budget" {
  task "train" {
    command = "python3"
  }
  stop {
    time_budget = "0s"
  }
}
