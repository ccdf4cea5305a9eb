# want: 5: Trial values are not available here: This is a search space parameter
experiment "space" {
  space {
    x = uniform(0, 1)
    y = uniform(0, trial.x)
  }
  task "train" {
    command = "python3"
  }
}
