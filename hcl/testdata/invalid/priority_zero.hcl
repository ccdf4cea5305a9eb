# want: 7: Invalid value for priority: priority must be between 1 and 100; got 0
experiment "low" {
  task "train" {
    command = "python3"
  }
  nomad {
    priority = 0
  }
}
